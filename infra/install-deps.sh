#!/usr/bin/env bash
# Installs the system packages Trunkline's lab, gateway and tests need on Debian 12.
# Idempotent: packages already present are skipped, apt is touched only when something is missing.
set -euo pipefail

PKGS=(
  openvswitch-switch openssh-server openssh-client
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
  iproute2 iputils-ping sudo procps util-linux
  redis-server
  ca-certificates curl openssl
  shellcheck
  # The browser tests of the web UI, GraphiQL and the API reference (headless, driven by playwright-core).
  chromium fonts-dejavu-core
  # The CLI's zsh completion is run in a real zsh by its unit test.
  zsh
  # promtool (`promtool check metrics`): the metrics test checks the exposition with Prometheus's own linter.
  prometheus
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Debian packages try to start services via systemd/invoke-rc.d; the lab starts daemons itself.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1
  fi
  trap '[[ $created_policy == 1 ]] && rm -f "$policy"' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libvirtd's QEMU driver refuses to start unless these accounts exist (docs/lab.md).
getent group kvm >/dev/null || groupadd -r kvm
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu

# The account Trunkline logs in as on (lab) hypervisors: never root (root's shell init is slow and
# real fleets forbid it), NOPASSWD sudo for exactly the tools the workers drive.
OPS_USER=${TRUNKLINE_OPS_USER:-trunkline}
if ! getent passwd "$OPS_USER" >/dev/null; then
  useradd -r -m -d "/var/lib/$OPS_USER" -s /bin/sh "$OPS_USER"
fi
# sshd refuses accounts with a locked ('!') password field even for key logins.
usermod -p '*' "$OPS_USER"
sudoers=/etc/sudoers.d/trunkline-ops
# ip only in the forms verifyVlan's probes use (src/verify/probes.ts), as sudo (>= 1.9.10) regular
# expressions: `ip netns exec` of anything but that ping would run any program as root. Every
# path ip has on Debian (sudo resolves it through secure_path, /usr/sbin/ip first).
probe_forms() { # ip path
  printf '%s ^netns (add|del) tlp[0-9a-z]+$, %s ^netns list$, ' "$1" "$1"
  printf '%s ^link add tlp[0-9a-z]+ type veth peer name eth0 netns tlp[0-9a-z]+$, ' "$1"
  printf '%s ^link (set tlp[0-9a-z]+ up|del tlp[0-9a-z]+)$, ' "$1"
  printf '%s ^-n tlp[0-9a-z]+ (addr add [0-9.]+/24 dev eth0|link set (eth0|lo) up)$, ' "$1"
  printf '%s ^netns exec tlp[0-9a-z]+ ping -n -q -c 3 -i 0\\.2 -W 1 [0-9.]+$' "$1"
}
cat >"$sudoers.tmp" <<SUDO
# Managed by trunkline infra/install-deps.sh
Defaults:$OPS_USER !requiretty
Cmnd_Alias TRUNKLINE_TOOLS = /usr/bin/ovs-vsctl, /usr/bin/ovs-ofctl, /usr/bin/ovs-appctl, /usr/bin/virsh
Cmnd_Alias TRUNKLINE_PROBES = $(probe_forms /usr/sbin/ip), $(probe_forms /usr/bin/ip), $(probe_forms /bin/ip)
$OPS_USER ALL=(root) NOPASSWD: TRUNKLINE_TOOLS, TRUNKLINE_PROBES
SUDO
chmod 0440 "$sudoers.tmp"
visudo -cf "$sudoers.tmp" >/dev/null
mv "$sudoers.tmp" "$sudoers"

# Node.js 20+ is needed for the gateway and worker.
if ! command -v node >/dev/null || (( $(node -p 'process.versions.node.split(".")[0]') < 20 )); then
  echo "install-deps: Node.js >= 20 is required (apt-get install nodejs npm, or nodesource)" >&2
  exit 1
fi
echo "install-deps: ok" >&2
