#!/usr/bin/env bash
# Trunkline hypervisor lab: N software "hypervisors" on one Debian 12 machine, no hardware needed.
#
# A lab host hvN is a named network namespace plus a private mount + UTS namespace (held open by a
# "keeper" process) in which the host's own ovsdb-server, ovs-vswitchd, virtlogd, libvirtd and sshd
# run. Per-host directories are bind-mounted over the default daemon paths inside that mount
# namespace, so commands arriving over SSH (`sudo ovs-vsctl`, `sudo virsh`) see THAT host's Open
# vSwitch and libvirt at their default paths, exactly like on a real hypervisor.
# An Open vSwitch instance in a switch namespace plays the L2 switch joining the hosts' uplinks,
# and a plain namespace plays a "test PC" on an access VLAN. See docs/lab.md.
#
# Usage: infra/lab.sh up|down|status|exec HOST -- CMD...|kill-sshd HOST|restart HOST DAEMON
#                     [--hosts N] [--name X]
#                     [--net N] [--state-dir DIR] [--pc-vlan V]
# Env:   LAB_NAME (tl), LAB_HOSTS (2), LAB_NET (0), LAB_STATE_DIR (/run/trunkline/lab-$LAB_NAME),
#        LAB_PC_VLAN (1002). Flags override the environment. Settings neither given by flag nor
#        by env come from the lab's last `up` (STATE_DIR/lab.env), then from the defaults.
#
# Addressing (all inside 198.18.0.0/15, the benchmarking range, so nothing real is ever reached):
#   host i: root side $LAB_NAME-m$i = 198.18.$LAB_NET.(4i+1)/30, host side mgmt0 = .(4i+2)/30.
# L2: each host's enp5s0f0 is veth-paired to port p-hvI of bridge sw0 in $LAB_NAME-sw. Those
#   ports are trunks with an empty `trunks` set, which OVS reads as "every VLAN": a VLAN the
#   product starts using (1003, ...) crosses the switch without touching it. The test PC
#   ($LAB_NAME-pc1, eth0) hangs on access port p-pc1 (tag=LAB_PC_VLAN, untagged to the PC).
set -Eeuo pipefail
umask 022
# Any unexpected failure names the command and line instead of exiting silently.
trap 'rc=$?; printf "%s: error: command failed (exit %s) at line %s: %s\n" "${0##*/}" "$rc" "$LINENO" "$BASH_COMMAND" >&2' ERR

readonly PROG=${0##*/}
readonly OPS_USER=trunkline                 # the account install-deps.sh creates (NOPASSWD sudo)
readonly SWITCH_BRIDGE=sw0
readonly UPLINK_IF=enp5s0f0                 # stand-in for the hypervisor's physical port
readonly MGMT_IF=mgmt0
readonly OVS_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
# Daemons get a clean, fixed environment: the caller's PATH (pyenv shims, node_modules/.bin, ...)
# and variables must not leak into long-lived system daemons.
readonly DAEMON_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8)
# Paths each lab host gets its own copy of (bind mounts inside the host's mount namespace).
# /run/netns is included so that `ip netns add` on a host stays on that host (docs/lab.md).
# /var/cache/libvirt is shared by the hosts of one lab (see bind_source).
readonly HOST_BINDS=(/run/openvswitch /etc/openvswitch /var/log/openvswitch /run/libvirt
  /var/lib/libvirt /etc/libvirt /var/log/libvirt /var/cache/libvirt /run/netns)
readonly SWITCH_BINDS=(/run/openvswitch /etc/openvswitch /var/log/openvswitch /run/netns)
readonly HOST_DAEMONS=(ovsdb-server ovs-vswitchd virtlogd libvirtd sshd)
readonly SWITCH_DAEMONS=(ovsdb-server ovs-vswitchd)
readonly MARKER=.trunkline-lab              # proves a state dir is ours before `rm -rf`

CHANGES=0                                   # number of actions `up` took (0 = it was a no-op)
# The machine's own namespaces, as this script (run from the root namespaces) sees them. Not
# pid 1's: on some machines /proc/1/ns is unreadable even for root.
ROOT_MNT=$(readlink /proc/self/ns/mnt)
ROOT_NET=$(readlink /proc/self/ns/net)
readonly ROOT_MNT ROOT_NET

# ---------------------------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------------------------
say() { printf '%s\n' "$*"; }
warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { warn "error: $*"; exit 1; }
# Records and prints one thing `up`/`down` changed, so a second `up` can prove it was a no-op.
act() { CHANGES=$((CHANGES + 1)); say "  $*"; }

# Polls PREDICATE every 50 ms for at most SECONDS: readiness is usually reached in a few ms,
# so fixed sleeps would only make the lab slow.
wait_until() {  # SECONDS PREDICATE [ARGS...]
  local tries=$(($1 * 20)); shift
  while ((tries-- > 0)); do
    "$@" && return 0
    sleep 0.05
  done
  "$@"
}

# Prints the last lines of the given log files, for "fail loudly with the relevant log tail".
log_tail() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    warn "---- last lines of $f ----"
    tail -n 15 "$f" >&2 || true
  done
}

# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------
# Which settings the caller gave explicitly (env or flag). The others come from what the last
# `up` recorded in lab.env, and only then from the defaults.
declare -A GIVEN=()

parse_flags() {
  [[ -n ${LAB_HOSTS:-} ]] && GIVEN[hosts]=1
  [[ -n ${LAB_NET:-} ]] && GIVEN[net]=1
  [[ -n ${LAB_PC_VLAN:-} ]] && GIVEN[vlan]=1
  while (($#)); do
    case $1 in
      --hosts) LAB_HOSTS=${2:?--hosts needs a value}; GIVEN[hosts]=1; shift 2 ;;
      --name) LAB_NAME=${2:?--name needs a value}; shift 2 ;;
      --net) LAB_NET=${2:?--net needs a value}; GIVEN[net]=1; shift 2 ;;
      --state-dir) LAB_STATE_DIR=${2:?--state-dir needs a value}; shift 2 ;;
      --pc-vlan) LAB_PC_VLAN=${2:?--pc-vlan needs a value}; GIVEN[vlan]=1; shift 2 ;;
      *) die "unknown option '$1' (see '$PROG help')" ;;
    esac
  done
  LAB_NAME=${LAB_NAME:-tl}
  [[ $LAB_NAME =~ ^[a-z0-9]{1,4}$ ]] || die "LAB_NAME must be 1..4 characters [a-z0-9], got '$LAB_NAME'"
  LAB_STATE_DIR=${LAB_STATE_DIR:-/run/trunkline/lab-$LAB_NAME}
  LAB_STATE_DIR=${LAB_STATE_DIR%/}
  # The state dir is removed with `rm -rf` by `down`: accept only sane absolute paths.
  [[ $LAB_STATE_DIR =~ ^/[A-Za-z0-9._/@+-]+$ && $LAB_STATE_DIR != *..* && $LAB_STATE_DIR == /*/* ]] ||
    die "LAB_STATE_DIR must be an absolute path of at least two components without '..', got '$LAB_STATE_DIR'"
  LOCK_FILE=/run/lock/trunkline-lab-$LAB_NAME.lock
}

# Fills unset settings from the last `up` (lab.env) or the defaults, then validates them.
resolve_settings() {  # use_recorded(0|1)
  if [[ $1 == 1 && -r $LAB_STATE_DIR/lab.env ]]; then
    local k v
    while IFS='=' read -r k v; do
      case $k in
        hosts) [[ -n ${GIVEN[hosts]:-} ]] || LAB_HOSTS=$v ;;
        net) [[ -n ${GIVEN[net]:-} ]] || LAB_NET=$v ;;
        vlan) [[ -n ${GIVEN[vlan]:-} ]] || LAB_PC_VLAN=$v ;;
      esac
    done <"$LAB_STATE_DIR/lab.env"
  fi
  LAB_HOSTS=$(int_in_range LAB_HOSTS "${LAB_HOSTS:-2}" 1 16)
  LAB_NET=$(int_in_range LAB_NET "${LAB_NET:-0}" 0 255)
  LAB_PC_VLAN=$(int_in_range LAB_PC_VLAN "${LAB_PC_VLAN:-1002}" 1 4094)
}

# Prints VALUE as a plain decimal ("08" would be octal to bash arithmetic) if MIN <= VALUE <= MAX.
int_in_range() {  # NAME VALUE MIN MAX
  if ! { [[ $2 =~ ^[0-9]{1,5}$ ]] && (( 10#$2 >= $3 && 10#$2 <= $4 )); }; then
    die "$1 must be $3..$4, got '$2'"
  fi
  printf '%d' $((10#$2))
}

# Serialises `up`/`down` of one lab. The lock lives outside the state dir because `down` deletes
# that. fd 9 must never reach a daemon (see spawn()), or the daemon would hold the lock forever.
take_lock() {
  mkdir -p /run/lock
  exec 9>"$LOCK_FILE"
  flock -w 300 9 || die "another '$PROG' is working on lab '$LAB_NAME' (lock $LOCK_FILE)"
}

# ---------------------------------------------------------------------------------------------
# Names and addresses
# ---------------------------------------------------------------------------------------------
ns_name() { printf '%s-%s' "$LAB_NAME" "$1"; }           # hv1 -> tl-hv1, sw -> tl-sw
node_dir() { printf '%s/%s' "$LAB_STATE_DIR" "$1"; }
host_ip() { printf '198.18.%d.%d' "$LAB_NET" $((4 * $1 + 2)); }
root_ip() { printf '198.18.%d.%d' "$LAB_NET" $((4 * $1 + 1)); }
root_mgmt_if() { printf '%s-m%d' "$LAB_NAME" "$1"; }
client_key() { printf '%s/id_ed25519' "$LAB_STATE_DIR"; }
known_hosts() { printf '%s/known_hosts' "$LAB_STATE_DIR"; }

# ---------------------------------------------------------------------------------------------
# Process and namespace probes
# ---------------------------------------------------------------------------------------------
# "net:[INODE]" of a named netns: compared with /proc/PID/ns/net to prove a pid belongs to it
# (pid files can survive their process and pids get reused).
netns_link() {  # NS
  local ino
  ino=$(stat -L -c %i "/run/netns/$1" 2>/dev/null) || return 1
  printf 'net:[%s]' "$ino"
}

netns_exists() { [[ $(stat -f -c %T "/run/netns/$1" 2>/dev/null) == nsfs ]]; }

# Succeeds (and prints PID) if PID is alive, not a zombie, named COMM and inside netns NETLINK.
pid_is() {  # PID COMM NETLINK
  local pid=$1 comm stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  read -r comm 2>/dev/null <"/proc/$pid/comm" || return 1
  [[ $comm == "$2" ]] || return 1
  read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]] || return 1
  [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "$3" ]] || return 1
  printf '%s\n' "$pid"
}

# Prints the pid recorded in PIDFILE if it is a live COMM inside NETLINK.
pidfile_live() {  # PIDFILE COMM NETLINK
  local pid=
  [[ -r $1 ]] || return 1
  read -r pid <"$1" || [[ -n $pid ]] || return 1
  pid_is "$pid" "$2" "$3"
}

# Where each daemon of a node keeps its pid file and log, as seen from the root namespace
# (the per-node bind sources live in the state dir, so no nsenter is needed to check on them).
daemon_pidfile() {  # NODE DAEMON
  local d; d=$(node_dir "$1")
  case $2 in
    ovsdb-server | ovs-vswitchd) printf '%s/root/run/openvswitch/%s.pid' "$d" "$2" ;;
    virtlogd | libvirtd) printf '%s/root/run/libvirt/%s.pid' "$d" "$2" ;;
    sshd) printf '%s/ssh/sshd.pid' "$d" ;;
    keeper) printf '%s/keeper.pid' "$d" ;;
  esac
}
daemon_log() {  # NODE DAEMON
  local d; d=$(node_dir "$1")
  case $2 in
    ovsdb-server | ovs-vswitchd) printf '%s/root/var/log/openvswitch/%s.log' "$d" "$2" ;;
    virtlogd | libvirtd) printf '%s/root/var/log/libvirt/%s.log' "$d" "$2" ;;
    sshd) printf '%s/ssh/sshd.log' "$d" ;;
    keeper) printf '%s/spawn.log' "$d" ;;
  esac
}
daemon_comm() { if [[ $1 == keeper ]]; then printf sleep; else printf '%s' "$1"; fi; }

daemon_pid() {  # NODE DAEMON -> pid of the live daemon, or failure
  local netlink
  netlink=$(netns_link "$(ns_name "$1")") || return 1
  pidfile_live "$(daemon_pidfile "$1" "$2")" "$(daemon_comm "$2")" "$netlink"
}

# A keeper only counts if it also still holds its own mount namespace (not the machine's).
keeper_pid() {  # NODE
  local pid
  pid=$(daemon_pid "$1" keeper) || return 1
  [[ $(readlink "/proc/$pid/ns/mnt") != "$ROOT_MNT" ]] || return 1
  printf '%s\n' "$pid"
}

# Runs a command inside a node's net + mount + UTS namespaces by joining its keeper.
in_keeper() {  # KEEPER_PID CMD...
  local k=$1; shift
  nsenter -t "$k" -n -m -u -- "$@"
}

# Starts a daemon inside a node. stdio goes to the node's spawn log and fd 9 (the lab lock) is
# closed: callers such as vitest's execFile wait until every holder of their stdout pipe is gone,
# and a daemon inheriting the lock fd would block every later `up`/`down`.
spawn() {  # NODE KEEPER_PID CMD...
  local log; log=$(node_dir "$1")/spawn.log
  local k=$2; shift 2
  in_keeper "$k" "${DAEMON_ENV[@]}" "$@" </dev/null >>"$log" 2>&1 9>&-
}

# All pids inside the given netns links, plus every pid sharing a mount namespace with them
# (a process a host started inside its own probe netns is only found through the mount ns).
# One `find` over /proc instead of a readlink per process keeps this fast.
lab_pids() {  # NETLINK...
  local -A nets=() mnts=() pids=()
  local l p kind link
  for l in "$@"; do nets[$l]=1; done
  local scan
  scan=$(find /proc/[0-9]*/ns/ -maxdepth 1 \( -name net -o -name mnt \) -printf '%h %f %l\n' 2>/dev/null || true)
  while read -r p kind link; do
    [[ -n $link ]] || continue
    [[ $kind == net && -n ${nets[$link]:-} ]] || continue
    p=${p#/proc/}; p=${p%/ns}
    pids[$p]=1
  done <<<"$scan"
  while read -r p kind link; do
    [[ -n $link ]] || continue
    [[ $kind == mnt ]] || continue
    p=${p#/proc/}; p=${p%/ns}
    [[ -n ${pids[$p]:-} ]] || continue
    [[ $link == "$ROOT_MNT" ]] || mnts[$link]=1
  done <<<"$scan"
  while read -r p kind link; do
    [[ -n $link ]] || continue
    [[ $kind == mnt && -n ${mnts[$link]:-} ]] || continue
    p=${p#/proc/}; p=${p%/ns}
    pids[$p]=1
  done <<<"$scan"
  unset "pids[$$]" "pids[$BASHPID]" "pids[1]"
  ((${#pids[@]})) && printf '%s\n' "${!pids[@]}"
  return 0
}

# SIGKILLs everything that lives in the given namespaces and waits until it is gone. The lab is
# disposable, so there is no graceful stop; several rounds catch children forked meanwhile.
kill_in_netns() {  # NS...
  local links=() ns l
  for ns in "$@"; do l=$(netns_link "$ns") && links+=("$l"); done
  ((${#links[@]})) || return 0
  kill_links "${links[@]}"
}

kill_links() {  # NETLINK...
  local links=("$@") pids pid_list=()
  for _ in 1 2 3 4 5; do
    pids=$(lab_pids "${links[@]}")
    [[ -n $pids ]] || return 0
    mapfile -t pid_list <<<"$pids"   # one pid per line
    kill -9 "${pid_list[@]}" 2>/dev/null || true
    wait_until 5 pids_gone "${pid_list[@]}" || true
  done
  pids=$(lab_pids "${links[@]}")
  [[ -z $pids ]] || warn "processes survived SIGKILL in ${*}: ${pids//$'\n'/ }"
  return 0
}

pids_gone() {  # PID...
  local p stat
  for p in "$@"; do
    read -r stat 2>/dev/null <"/proc/$p/stat" || continue
    stat=${stat##*) }
    [[ ${stat%% *} == Z ]] || return 1   # zombies have left their namespaces already
  done
}

# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
# Writes stdin to PATH atomically (tmp + mv) and only if the content differs. Returns 0 if the
# file changed, 1 if it already had this content: callers use that to stay silent on no-ops.
write_if_changed() {  # PATH MODE
  local tmp="$1.tmp.$$"
  cat >"$tmp"
  chmod "$2" "$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$1"
}

json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

fingerprint() { ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'; }

# ---------------------------------------------------------------------------------------------
# `up`: state dir, client key
# ---------------------------------------------------------------------------------------------
ensure_state_dir() {
  if [[ -d $LAB_STATE_DIR && ! -e $LAB_STATE_DIR/$MARKER && -n $(ls -A "$LAB_STATE_DIR") ]]; then
    die "$LAB_STATE_DIR exists, is not empty and is not a lab state dir (no $MARKER): refusing to use it"
  fi
  if [[ ! -d $LAB_STATE_DIR ]]; then
    mkdir -p "$LAB_STATE_DIR"
    act "created state dir $LAB_STATE_DIR"
  fi
  # sshd reads authorized_keys from here as the ops user: the dir must be traversable.
  chmod 0755 "$LAB_STATE_DIR"
  printf '%s\n' "$LAB_NAME" >"$LAB_STATE_DIR/$MARKER"
  printf 'hosts=%s\nnet=%s\nvlan=%s\n' "$LAB_HOSTS" "$LAB_NET" "$LAB_PC_VLAN" |
    write_if_changed "$LAB_STATE_DIR/lab.env" 0644 || true
}

# One client key per lab, generated once so that the gateway's configuration stays valid across
# `up` runs; authorized on every host through a lab-owned authorized_keys file.
ensure_client_key() {
  local key; key=$(client_key)
  if [[ ! -s $key || ! -s $key.pub ]]; then
    rm -f "$key" "$key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "trunkline-lab-$LAB_NAME" -f "$key"
    act "generated client key $key"
  fi
  chown root:root "$key"; chmod 0600 "$key"
  write_if_changed "$LAB_STATE_DIR/authorized_keys" 0644 <"$key.pub" || true
}

# ---------------------------------------------------------------------------------------------
# `up`: namespaces and links
# ---------------------------------------------------------------------------------------------
ensure_netns() {  # NS
  if ! netns_exists "$1"; then
    # A leftover non-nsfs file (crash between create and mount) would make `ip netns add` fail.
    [[ -e /run/netns/$1 ]] && { ip netns del "$1" 2>/dev/null || rm -f "/run/netns/$1"; }
    ip netns add "$1"
    act "created namespace $1"
  fi
  ip -n "$1" link set lo up
}

link_exists() {  # NS(or "") IFNAME
  if [[ -n $1 ]]; then ip -n "$1" link show dev "$2" >/dev/null 2>&1
  else ip link show dev "$2" >/dev/null 2>&1; fi
}

ip_in() {  # NS(or "") ARGS... : `ip` in a namespace, or in the root namespace for ""
  local ns=$1; shift
  if [[ -n $ns ]]; then ip -n "$ns" "$@"; else ip "$@"; fi
}

# Sets exactly CIDR on IF (replacing others, e.g. after a LAB_NET change) and brings it up.
ensure_addr() {  # NS(or "") IF CIDR
  local cur
  cur=$(ip_in "$1" -o -4 addr show dev "$2" | awk '{print $4}' | paste -sd' ')
  if [[ $cur != "$3" ]]; then
    ip_in "$1" addr flush dev "$2"
    ip_in "$1" addr add "$3" dev "$2"
    act "set $3 on $2${1:+ in $1}"
  fi
  ip_in "$1" link set "$2" up
}

# Creates a veth pair with each end directly in its namespace (no transient names in the root
# namespace, so two labs never collide). Returns 0 if it had to create the pair.
ensure_veth() {  # NS_A IF_A NS_B IF_B  ("" = root namespace)
  if link_exists "$1" "$2" && link_exists "$3" "$4"; then
    return 1
  fi
  ip_in "$1" link del "$2" 2>/dev/null || true
  ip_in "$3" link del "$4" 2>/dev/null || true
  if [[ -n $3 ]]; then
    ip_in "$1" link add "$2" type veth peer name "$4" netns "$3"
  else
    ip_in "$1" link add "$2" type veth peer name "$4"
  fi
  act "created veth $2${1:+ ($1)} <-> $4${3:+ ($3)}"
}

ensure_host_links() {  # I
  local i=$1 ns; ns=$(ns_name "hv$i")
  ensure_veth "" "$(root_mgmt_if "$i")" "$ns" "$MGMT_IF" || true
  ensure_addr "" "$(root_mgmt_if "$i")" "$(root_ip "$i")/30"
  ensure_addr "$ns" "$MGMT_IF" "$(host_ip "$i")/30"
  if ensure_veth "$ns" "$UPLINK_IF" "$(ns_name sw)" "p-hv$i"; then RECREATED_PORTS+=("p-hv$i"); fi
  # The uplink only needs to be up: putting it into a bridge is the product's job.
  ip -n "$ns" link set "$UPLINK_IF" up
  ip -n "$(ns_name sw)" link set "p-hv$i" up
}

ensure_pc() {
  local ns; ns=$(ns_name pc1)
  ensure_netns "$ns"
  if ensure_veth "$ns" eth0 "$(ns_name sw)" p-pc1; then RECREATED_PORTS+=(p-pc1); fi
  # eth0 stays without an address: tests assign the one they need.
  ip -n "$ns" link set eth0 up
  ip -n "$(ns_name sw)" link set p-pc1 up
}

# ---------------------------------------------------------------------------------------------
# `up`: keeper (mount + UTS namespace) per node
# ---------------------------------------------------------------------------------------------
keeper_ready() {  # PID: unshare done and exec'd into the keeper
  local comm
  read -r comm 2>/dev/null <"/proc/$1/comm" || return 1
  [[ $comm == sleep && $(readlink "/proc/$1/ns/mnt") != "$ROOT_MNT" ]]
}

# Runs inside a fresh keeper's mount + UTS namespace: sets the host's private view of the machine.
# shellcheck disable=SC2016 # a script for the keeper's shell: its $1, $# and "$t" expand there
readonly KEEPER_SETUP='
set -e
hn=$1; shift
# The copied mount table still holds the nsfs mounts of every named netns on the machine
# (other labs, docker, ...). Drop them here, or this host would keep those namespaces alive.
findmnt -rn -t nsfs -o TARGET | while read -r t; do umount -l "$t" 2>/dev/null || true; done
while [ $# -gt 1 ]; do mount --bind "$1" "$2"; shift 2; done
hostname "$hn"
'

start_keeper() {  # NODE HOSTNAME BIND_PATH...
  local node=$1 hn=$2; shift 2
  local d ns pid p binds=()
  d=$(node_dir "$node"); ns=$(ns_name "$node")
  for p in "$@"; do
    mkdir -p "$p"                      # the mount point must exist in the root namespace first
    binds+=("$(bind_source "$node" "$p")" "$p")
  done
  [[ $node == hv* ]] && binds+=("$d/hosts" /etc/hosts)
  rm -f "$d/keeper.pid"
  # `ip netns exec` remounts /sys for the netns (so /sys/class/net shows the host's devices);
  # `unshare -m -u` then gives the host its own mount table and hostname. setsid detaches the
  # keeper from the caller's session so that a Ctrl-C of the caller does not take the host down.
  setsid ip netns exec "$ns" unshare --mount --uts --propagation private sleep infinity \
    </dev/null >>"$d/spawn.log" 2>&1 9>&- &
  pid=$!
  wait_until 5 keeper_ready "$pid" || { log_tail "$d/spawn.log"; die "$node: keeper did not start"; }
  if ! nsenter -t "$pid" -m -u -- /bin/sh -c "$KEEPER_SETUP" keeper "$hn" "${binds[@]}" 2>>"$d/spawn.log"; then
    kill -9 "$pid" 2>/dev/null || true
    log_tail "$d/spawn.log"
    die "$node: could not set up the mount namespace"
  fi
  printf '%s\n' "$pid" >"$d/keeper.pid"
  act "$node: started keeper (pid $pid, netns $ns, private mount+UTS namespace)"
}

# If NODE's recorded keeper still runs but its netns is no longer the named one (someone ran
# `ip netns del`), prints the net link of that orphaned namespace: its daemons still run there
# and must be killed too. Guarded against pid reuse: it must be a `sleep` outside the machine's
# own net and mount namespaces.
orphan_link() {  # NODE
  local pid='' comm net mnt
  read -r pid 2>/dev/null <"$(daemon_pidfile "$1" keeper)" || [[ -n $pid ]] || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  read -r comm 2>/dev/null <"/proc/$pid/comm" || return 1
  [[ $comm == sleep ]] || return 1
  net=$(readlink "/proc/$pid/ns/net" 2>/dev/null) && mnt=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null) || return 1
  [[ $net != "$ROOT_NET" && $mnt != "$ROOT_MNT" ]] || return 1
  [[ $net != "$(netns_link "$(ns_name "$1")" 2>/dev/null)" ]] || return 1
  printf '%s\n' "$net"
}

# Returns the keeper pid, starting a new one if needed. Without a live keeper the node's mount
# namespace cannot be joined reliably, so whatever still runs in its netns is stale: kill it and
# start the node over (its configuration and databases survive in the state dir).
ensure_keeper() {  # NODE HOSTNAME BIND_PATH...
  local node=$1 pid
  if pid=$(keeper_pid "$node"); then
    KEEPER=$pid
    return 0
  fi
  local stale links=()
  links=("$(netns_link "$(ns_name "$node")")")
  orphan_link "$node" >/dev/null && links+=("$(orphan_link "$node")")
  stale=$(lab_pids "${links[@]}")
  if [[ -n $stale ]]; then
    kill_links "${links[@]}"
    act "$node: keeper was gone; killed stale processes ${stale//$'\n'/ }"
  fi
  start_keeper "$@"
  KEEPER=$(keeper_pid "$node") || die "$node: keeper is not alive after start"
}

# ---------------------------------------------------------------------------------------------
# `up`: per-node files
# ---------------------------------------------------------------------------------------------
# Where the node's private copy of PATH lives. Exception: the QEMU capabilities cache
# (/var/cache/libvirt) is shared by all hosts of the lab, because probing qemu under TCG costs
# about 4 s of CPU on the first `virsh define` of each libvirtd; the binary is the same for all
# hosts, and libvirt re-probes if it ever reads a damaged cache file.
bind_source() {  # NODE PATH
  if [[ $2 == /var/cache/libvirt ]]; then printf '%s/shared%s' "$LAB_STATE_DIR" "$2"
  else printf '%s/root%s' "$(node_dir "$1")" "$2"; fi
}

prepare_node_dirs() {  # NODE BIND_PATH...
  local node=$1 p; shift
  mkdir -p "$(node_dir "$node")/ssh"
  for p in "$@"; do mkdir -p "$(bind_source "$node" "$p")"; done
}

# /etc/libvirt is a copy of the machine's, made once: libvirtd persists the host's network and
# domain definitions there, so later runs must not overwrite it.
init_libvirt_etc() {  # NODE
  local etc; etc=$(node_dir "$1")/root/etc/libvirt
  [[ -e $etc/.lab-initialized ]] && return 0
  cp -a /etc/libvirt/. "$etc/"
  # The host runs QEMU as root without a security driver: no DAC/AppArmor games in a lab, and
  # docs/lab.md says the libvirt-qemu user otherwise gets in the way.
  {
    if [[ -f $etc/qemu.conf ]]; then
      grep -Ev '^[[:space:]]*(user|group|security_driver)[[:space:]]*=' "$etc/qemu.conf" || true
    fi
    printf '# trunkline lab\nuser = "root"\ngroup = "root"\nsecurity_driver = "none"\n'
  } >"$etc/qemu.conf.new"
  mv "$etc/qemu.conf.new" "$etc/qemu.conf"
  # No NAT "default" network: it would need dnsmasq/iptables and is not part of the reference setup.
  rm -f "$etc/qemu/networks/autostart/default.xml"
  # Log to files in the host's /var/log/libvirt (no journald/syslog here) for failure diagnosis.
  local f
  for f in libvirtd virtlogd; do
    if ! grep -Eqs '^[[:space:]]*log_outputs' "$etc/$f.conf"; then
      printf 'log_outputs = "3:file:/var/log/libvirt/%s.log"\n' "$f" >>"$etc/$f.conf"
    fi
  done
  touch "$etc/.lab-initialized"
  act "$1: created /etc/libvirt (copy of the machine's, qemu runs as root)"
}

write_hosts_file() {  # NODE
  # sudo resolves the host name; without this it prints "unable to resolve host hvN".
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$1" |
    write_if_changed "$(node_dir "$1")/hosts" 0644 || true
}

ensure_host_key() {  # NODE
  local key; key=$(node_dir "$1")/ssh/ssh_host_ed25519_key
  [[ -s $key && -s $key.pub ]] && return 0
  rm -f "$key" "$key.pub"
  ssh-keygen -q -t ed25519 -N '' -C "$1.lab-$LAB_NAME" -f "$key"
  act "$1: generated ssh host key ($(fingerprint "$key.pub"))"
}

# Returns 0 if the config changed (a running sshd must then be restarted).
write_sshd_config() {  # I
  local node=hv$1 d; d=$(node_dir "hv$1")
  write_if_changed "$d/ssh/sshd_config" 0644 <<EOF
# trunkline lab host $node (generated by infra/lab.sh; do not edit)
ListenAddress $(host_ip "$1")
Port 22
HostKey $d/ssh/ssh_host_ed25519_key
PidFile $d/ssh/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AuthorizedKeysFile $LAB_STATE_DIR/authorized_keys
AllowUsers $OPS_USER
MaxSessions 10
# The lab state dir may live anywhere (even under /tmp); the key file is root-owned and 0644.
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
Subsystem sftp internal-sftp
EOF
}

# ---------------------------------------------------------------------------------------------
# `up`: daemons
# ---------------------------------------------------------------------------------------------
# Starts one daemon inside the node (already known to be dead). Every daemon uses its default
# socket path inside the node, so tools run there (`sudo ovs-vsctl`, `sudo virsh`) need no flags.
start_daemon() {  # NODE KEEPER DAEMON
  local node=$1 k=$2 d; d=$(node_dir "$1")
  case $3 in
    ovsdb-server)
      rm -f "$d/root/run/openvswitch/db.sock"
      spawn "$node" "$k" ovsdb-server /etc/openvswitch/conf.db \
        --remote=punix:/run/openvswitch/db.sock \
        --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
        --pidfile=/run/openvswitch/ovsdb-server.pid \
        --log-file=/var/log/openvswitch/ovsdb-server.log --detach ;;
    ovs-vswitchd)
      spawn "$node" "$k" ovs-vswitchd unix:/run/openvswitch/db.sock \
        --pidfile=/run/openvswitch/ovs-vswitchd.pid \
        --log-file=/var/log/openvswitch/ovs-vswitchd.log --detach ;;
    virtlogd)
      # Own pid file: two virtlogd/libvirtd sharing /run/*.pid makes the second exit silently.
      rm -f "$d/root/run/libvirt/virtlogd-sock" "$d/root/run/libvirt/virtlogd-admin-sock"
      spawn "$node" "$k" virtlogd -d -p /run/libvirt/virtlogd.pid ;;
    libvirtd)
      rm -f "$d/root/run/libvirt/libvirt-sock" "$d/root/run/libvirt/libvirt-sock-ro" \
        "$d/root/run/libvirt/libvirt-admin-sock"
      spawn "$node" "$k" libvirtd -d -p /run/libvirt/libvirtd.pid ;;
    sshd)
      # Validate first: a bad config is reported here instead of as a silent exit.
      spawn "$node" "$k" /usr/sbin/sshd -t -f "$d/ssh/sshd_config" ||
        { log_tail "$d/spawn.log"; die "$node: sshd config test failed"; }
      spawn "$node" "$k" /usr/sbin/sshd -f "$d/ssh/sshd_config" -E "$d/ssh/sshd.log" ;;
  esac
}

# The daemon's pid file is live and its socket (if any) exists.
daemon_ready() {  # NODE DAEMON
  local d; d=$(node_dir "$1")
  daemon_pid "$1" "$2" >/dev/null || return 1
  case $2 in
    ovsdb-server) [[ -S $d/root/run/openvswitch/db.sock ]] ;;
    virtlogd) [[ -S $d/root/run/libvirt/virtlogd-sock ]] ;;
    libvirtd) [[ -S $d/root/run/libvirt/libvirt-sock ]] ;;
  esac
}

# Starts DAEMON unless it already runs: the heart of `up`'s idempotency.
ensure_daemon() {  # NODE KEEPER DAEMON
  local pid
  daemon_pid "$1" "$3" >/dev/null && return 0
  if ! start_daemon "$@" || ! wait_until 10 daemon_ready "$1" "$3"; then
    log_tail "$(node_dir "$1")/spawn.log" "$(daemon_log "$1" "$3")"
    die "$1: $3 did not start"
  fi
  pid=$(daemon_pid "$1" "$3")
  act "$1: started $3 (pid $pid)"
}

ensure_ovs() {  # NODE KEEPER
  local d; d=$(node_dir "$1")
  if [[ ! -s $d/root/etc/openvswitch/conf.db ]]; then
    ovsdb-tool create "$d/root/etc/openvswitch/conf.db" "$OVS_SCHEMA"
    rm -f "$d/ovs-initialized"
    act "$1: created fresh OVS database"
  fi
  ensure_daemon "$1" "$2" ovsdb-server
  # First start only (a marker makes a crash in between harmless): `init` creates the root row
  # ovs-vswitchd needs. userspace-tso-enable is needed or TCP does not cross the lab (ping
  # does): a veth hands the userspace datapath packets whose checksum the kernel left for the
  # "hardware" to fill in (CHECKSUM_PARTIAL), and they reach the far namespace with a bad
  # checksum; with userspace TSO support every OVS passes that state on in virtio-net headers.
  # ovs-vswitchd reads it only at startup, so it goes into the database before the first start.
  # It plays the NIC's offload capability, not product configuration.
  if [[ ! -e $d/ovs-initialized ]]; then
    in_keeper "$2" ovs-vsctl --no-wait --timeout=10 init -- \
      set Open_vSwitch . other_config:userspace-tso-enable=true
    touch "$d/ovs-initialized"
  fi
  ensure_daemon "$1" "$2" ovs-vswitchd
}

ensure_sshd() {  # I KEEPER
  local node=hv$1 pid
  if write_sshd_config "$1" && pid=$(daemon_pid "$node" sshd); then
    # Config changed (e.g. LAB_NET): restart just the listener; open sessions keep running.
    kill "$pid"
    wait_until 5 pids_gone "$pid" || kill -9 "$pid" 2>/dev/null || true
    act "$node: sshd config changed, restarting sshd"
  fi
  [[ -d /run/sshd ]] || mkdir -m 0755 /run/sshd   # sshd's privilege separation directory
  ensure_daemon "$node" "$2" sshd
}

ensure_switch() {
  local ns; ns=$(ns_name sw)
  ensure_netns "$ns"
  prepare_node_dirs sw "${SWITCH_BINDS[@]}"
  ensure_keeper sw sw "${SWITCH_BINDS[@]}"
  ensure_ovs sw "$KEEPER"
  SW_KEEPER=$KEEPER
}

sw_vsctl() { in_keeper "$SW_KEEPER" ovs-vsctl --timeout=10 "$@"; }

# Converges bridge sw0 and its ports with as few ovsdb round trips as possible on a no-op run.
# Host ports are trunks with an EMPTY trunks set, which in OVS means "all VLANs": a VLAN the
# product starts to use (say 1003) crosses the switch with no change here. The test PC port is
# an access port on LAB_PC_VLAN (frames reach the PC untagged).
configure_switch() {
  local dp cur port i
  dp=$(sw_vsctl --if-exists get Bridge "$SWITCH_BRIDGE" datapath_type 2>/dev/null || true)
  if [[ $dp != netdev ]]; then
    # There is no openvswitch kernel module here: only the userspace datapath works.
    sw_vsctl --may-exist add-br "$SWITCH_BRIDGE" -- set Bridge "$SWITCH_BRIDGE" datapath_type=netdev
    act "switch: bridge $SWITCH_BRIDGE (datapath_type=netdev)"
  fi
  # Ports whose veth was just re-created must be re-added so ovs-vswitchd opens the new device.
  for port in "${RECREATED_PORTS[@]}"; do
    sw_vsctl --if-exists del-port "$SWITCH_BRIDGE" "$port"
  done
  cur=$(sw_vsctl -f csv --no-headings --data=bare --columns=name,vlan_mode,tag,trunks list Port)
  for ((i = 1; i <= LAB_HOSTS; i++)); do
    grep -qx "p-hv$i,trunk,," <<<"$cur" && continue
    sw_vsctl --may-exist add-port "$SWITCH_BRIDGE" "p-hv$i" -- set Port "p-hv$i" vlan_mode=trunk \
      -- clear Port "p-hv$i" tag trunks
    act "switch: port p-hv$i = trunk (all VLANs)"
  done
  if ! grep -qx "p-pc1,access,$LAB_PC_VLAN," <<<"$cur"; then
    sw_vsctl --may-exist add-port "$SWITCH_BRIDGE" p-pc1 -- set Port p-pc1 vlan_mode=access \
      "tag=$LAB_PC_VLAN" -- clear Port p-pc1 trunks
    act "switch: port p-pc1 = access VLAN $LAB_PC_VLAN"
  fi
  # Ports of hosts beyond LAB_HOSTS (the lab shrank).
  while IFS=, read -r port _; do
    if [[ $port =~ ^p-hv([0-9]+)$ ]] && ((BASH_REMATCH[1] > LAB_HOSTS)); then
      sw_vsctl --if-exists del-port "$SWITCH_BRIDGE" "$port"
      act "switch: removed port $port"
    fi
  done <<<"$cur"
}

# Fails loudly if ovs-vswitchd could not open a switch port (ofport -1 / error set).
check_switch_ports() {
  local bad
  bad=$(sw_vsctl -f csv --no-headings --data=bare --columns=name,ofport,error list Interface |
    awk -F, '$1 ~ /^p-/ && ($2 == "-1" || $2 == "" || $3 != "")')
  [[ -z $bad ]] || { log_tail "$(daemon_log sw ovs-vswitchd)"; die "switch: ports not working: $bad"; }
}

ensure_host() {  # I
  local i=$1 node=hv$1
  prepare_node_dirs "$node" "${HOST_BINDS[@]}"
  init_libvirt_etc "$node"
  write_hosts_file "$node"
  ensure_host_key "$node"
  ensure_keeper "$node" "$node" "${HOST_BINDS[@]}"
  local k=$KEEPER
  ensure_ovs "$node" "$k"
  ensure_daemon "$node" "$k" virtlogd
  ensure_daemon "$node" "$k" libvirtd
  ensure_sshd "$i" "$k"
}

# Removes host I entirely (used when the lab shrinks; `down` removes whole labs).
remove_host() {  # I
  local i=$1 ns; ns=$(ns_name "hv$i")
  if netns_exists "$ns"; then
    kill_in_netns "$ns"
    ip netns del "$ns"
  fi
  ip link del "$(root_mgmt_if "$i")" 2>/dev/null || true
  rm -rf "$(node_dir "hv$i")"
  act "removed hv$i (lab shrank to $LAB_HOSTS hosts)"
}

prune_extra_hosts() {
  local -A extra=() ; local n
  for n in $(lab_namespaces); do
    [[ $n =~ ^$LAB_NAME-hv([0-9]+)$ ]] && ((BASH_REMATCH[1] > LAB_HOSTS)) && extra[${BASH_REMATCH[1]}]=1
  done
  for n in "$LAB_STATE_DIR"/hv*; do
    [[ -d $n && ${n##*/hv} =~ ^[0-9]+$ ]] && ((${n##*/hv} > LAB_HOSTS)) && extra[${n##*/hv}]=1
  done
  for n in $(lab_root_links); do
    [[ $n =~ ^$LAB_NAME-m([0-9]+)$ ]] && ((BASH_REMATCH[1] > LAB_HOSTS)) && extra[${BASH_REMATCH[1]}]=1
  done
  for n in "${!extra[@]}"; do remove_host "$n"; done
}

# ---------------------------------------------------------------------------------------------
# `up`: known_hosts, inventory, verification
# ---------------------------------------------------------------------------------------------
write_known_hosts() {
  local i
  for ((i = 1; i <= LAB_HOSTS; i++)); do
    printf '%s %s\n' "$(host_ip "$i")" \
      "$(cut -d' ' -f1,2 "$(node_dir "hv$i")/ssh/ssh_host_ed25519_key.pub")"
  done | write_if_changed "$(known_hosts)" 0644 || true
}

# The contract the gateway reads: keep the shape exactly as documented.
write_inventory() {
  local i sep='' hv=
  for ((i = 1; i <= LAB_HOSTS; i++)); do
    hv+=$sep$(printf '{"name":"hv%d","address":"%s","port":22,"user":%s,"privateKeyPath":%s,"hostKeyFingerprint":%s,"namespace":%s,"defaults":{"bridge":"ovsbr0","uplink":"%s","network":"ovs-network"}}' \
      "$i" "$(host_ip "$i")" "$(json_str "$OPS_USER")" "$(json_str "$(client_key)")" \
      "$(json_str "$(fingerprint "$(node_dir "hv$i")/ssh/ssh_host_ed25519_key.pub")")" \
      "$(json_str "$(ns_name "hv$i")")" "$UPLINK_IF")
    sep=,
  done
  printf '{"version":1,"lab":"%s","hypervisors":[%s],"switch":{"namespace":"%s","bridge":"%s"},"testPcs":[{"name":"pc1","namespace":"%s","interface":"eth0","vlan":%d}]}\n' \
    "$LAB_NAME" "$hv" "$(ns_name sw)" "$SWITCH_BRIDGE" "$(ns_name pc1)" "$LAB_PC_VLAN" |
    write_if_changed "$LAB_STATE_DIR/inventory.json" 0644 && act "wrote $LAB_STATE_DIR/inventory.json"
  return 0
}

# ssh exactly as the gateway does: lab key, strict host key checking against the lab's
# known_hosts, no agent, no user config, bounded connect time.
lab_ssh() {  # IP CMD
  timeout 30 ssh -F /dev/null -i "$(client_key)" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$(known_hosts)" \
    -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR \
    "$OPS_USER@$1" "$2"
}

# One SSH connection per host checks that the ops user reaches THIS host's OVS and libvirt.
# The remote hostname proves the connection ended on the right host.
readonly VERIFY_CMD='hostname && { sudo -n ovs-vsctl --timeout=10 show >/dev/null || { echo "FAILED: sudo ovs-vsctl show" >&2; exit 21; }; } && { sudo -n virsh -c qemu:///system list --all >/dev/null || { echo "FAILED: sudo virsh -c qemu:///system list --all" >&2; exit 22; }; }'

verify_hosts() {
  local i rc failed=0 out
  local -A jobs=()
  for ((i = 1; i <= LAB_HOSTS; i++)); do
    lab_ssh "$(host_ip "$i")" "$VERIFY_CMD" >"$LAB_STATE_DIR/.verify-hv$i" 2>&1 9>&- </dev/null &
    jobs[$i]=$!
  done
  for ((i = 1; i <= LAB_HOSTS; i++)); do
    rc=0; wait "${jobs[$i]}" || rc=$?
    out=$(<"$LAB_STATE_DIR/.verify-hv$i"); rm -f "$LAB_STATE_DIR/.verify-hv$i"
    if ((rc == 0)) && [[ ${out%%$'\n'*} == "hv$i" ]]; then continue; fi
    failed=1
    warn "hv$i ($(host_ip "$i")): verification over SSH failed (exit $rc): $out"
    case $rc in
      21) log_tail "$(daemon_log "hv$i" ovsdb-server)" "$(daemon_log "hv$i" ovs-vswitchd)" ;;
      22) log_tail "$(daemon_log "hv$i" libvirtd)" "$(daemon_log "hv$i" virtlogd)" ;;
      *) log_tail "$(daemon_log "hv$i" sshd)" "$(node_dir "hv$i")/spawn.log" ;;
    esac
  done
  ((failed == 0)) || die "lab '$LAB_NAME' is not healthy (see above)"
}

print_summary() {  # ELAPSED_MS
  local i
  say "lab '$LAB_NAME' is up: $LAB_HOSTS host(s) in $(($1 / 1000)).$(printf '%03d' $(($1 % 1000))) s$( ((CHANGES)) || printf ' (no changes: everything was running)')"
  for ((i = 1; i <= LAB_HOSTS; i++)); do
    say "  hv$i  $OPS_USER@$(host_ip "$i"):22  netns $(ns_name "hv$i")  $(fingerprint "$(node_dir "hv$i")/ssh/ssh_host_ed25519_key.pub")"
  done
  say "  switch: netns $(ns_name sw), bridge $SWITCH_BRIDGE (host ports trunk all VLANs)"
  say "  pc1: netns $(ns_name pc1), eth0 on access VLAN $LAB_PC_VLAN"
  say "  inventory: $LAB_STATE_DIR/inventory.json"
  say "  ssh: ssh -i $(client_key) -o UserKnownHostsFile=$(known_hosts) $OPS_USER@$(host_ip 1)"
}

now_ms() { local t; t=$(date +%s%N); printf '%s' $((t / 1000000)); }

# Two labs on the same LAB_NET would install overlapping routes in the root namespace.
check_subnet_free() {
  local other
  other=$(ip -o -4 addr show to "198.18.$LAB_NET.0/24" | awk '{print $2}' | sed 's/@.*//' |
    grep -Ev "^$LAB_NAME-m[0-9]+\$" | sort -u | paste -sd' ' || true)
  [[ -z $other ]] || die "198.18.$LAB_NET.0/24 is already used by $other (another lab?): choose another LAB_NET"
}

cmd_up() {
  local t0 i; t0=$(now_ms)
  take_lock
  # An existing lab keeps the settings it was created with unless told otherwise: a bare `up`
  # (e.g. to restart a dead daemon) must not re-address or shrink it to the defaults.
  resolve_settings 1
  check_subnet_free
  say "lab '$LAB_NAME': converging ($LAB_HOSTS hosts, 198.18.$LAB_NET.0/24, PC VLAN $LAB_PC_VLAN)"
  ensure_state_dir
  ensure_client_key
  RECREATED_PORTS=()
  # Namespaces and links first: switch ports can only be opened once their devices exist.
  ensure_netns "$(ns_name sw)"
  for ((i = 1; i <= LAB_HOSTS; i++)); do
    ensure_netns "$(ns_name "hv$i")"
    ensure_host_links "$i"
  done
  ensure_pc
  ensure_switch
  configure_switch
  for ((i = 1; i <= LAB_HOSTS; i++)); do ensure_host "$i"; done
  prune_extra_hosts
  check_switch_ports
  write_known_hosts
  write_inventory
  verify_hosts
  print_summary $(($(now_ms) - t0))
}

# ---------------------------------------------------------------------------------------------
# `down`
# ---------------------------------------------------------------------------------------------
# Only names of exactly this lab's shape: "tl" must never match "tlt-hv1".
lab_namespaces() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$LAB_NAME-(hv[0-9]+|sw|pc[0-9]+)\$" || true
}
lab_root_links() {
  ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
    grep -E "^$LAB_NAME-m[0-9]+\$" || true
}

remove_state_dir() {
  [[ -d $LAB_STATE_DIR ]] || return 0
  if [[ -e $LAB_STATE_DIR/$MARKER ]]; then
    rm -rf "$LAB_STATE_DIR"
  elif [[ -z $(ls -A "$LAB_STATE_DIR") ]]; then
    rmdir "$LAB_STATE_DIR"
  else
    die "refusing to delete $LAB_STATE_DIR: it has no $MARKER marker"
  fi
  act "removed $LAB_STATE_DIR"
  # /run/trunkline too, if this was the last lab there (never the parent of a custom state dir).
  if [[ ${LAB_STATE_DIR%/*} == /run/trunkline ]]; then rmdir /run/trunkline 2>/dev/null || true; fi
}

cmd_down() {
  local t0 nss l; t0=$(now_ms)
  take_lock
  say "lab '$LAB_NAME': tearing down"
  mapfile -t nss < <(lab_namespaces)
  # Namespaces someone deleted by name while their daemons kept running: only the recorded
  # keepers still lead to them.
  local orphans=() f node
  for f in "$LAB_STATE_DIR"/*/keeper.pid; do
    [[ -e $f ]] || continue
    node=${f%/keeper.pid}; node=${node##*/}
    l=$(orphan_link "$node") && orphans+=("$l")
  done
  if ((${#orphans[@]})); then
    kill_links "${orphans[@]}"
    act "killed processes of ${#orphans[@]} orphaned namespace(s)"
  fi
  if ((${#nss[@]})); then
    # Kill first (sshd sessions, daemons, qemu, processes in host-local probe namespaces), then
    # delete: a namespace whose processes still run would outlive its name.
    kill_in_netns "${nss[@]}"
    for l in "${nss[@]}"; do
      ip netns del "$l" 2>/dev/null || warn "could not delete namespace $l"
      act "deleted namespace $l"
    done
  fi
  # Root-side management veths normally vanish with their peer; a half-created lab may leave one.
  for l in $(lab_root_links); do
    ip link del "$l" 2>/dev/null || true
    act "deleted link $l"
  done
  remove_state_dir
  local ms=$(($(now_ms) - t0))
  if ((CHANGES)); then say "lab '$LAB_NAME' is down ($((ms / 1000)).$(printf '%03d' $((ms % 1000))) s)"
  else say "lab '$LAB_NAME': nothing to remove"; fi
}

# ---------------------------------------------------------------------------------------------
# `status`, `exec`, `kill-sshd`
# ---------------------------------------------------------------------------------------------
# Prints "NODE DAEMON up PID" / "NODE DAEMON down -" lines; returns 1 if anything is down.
status_node() {  # NODE DAEMON...
  local node=$1 dmn pid ok=0; shift
  if ! netns_exists "$(ns_name "$node")"; then
    printf '%-4s %-13s down -\n' "$node" netns
    return 1
  fi
  for dmn in keeper "$@"; do
    if pid=$(daemon_pid "$node" "$dmn"); then
      printf '%-4s %-13s up   %s\n' "$node" "$dmn" "$pid"
    else
      printf '%-4s %-13s down -\n' "$node" "$dmn"; ok=1
    fi
  done
  return $ok
}

cmd_status() {
  resolve_settings 1
  local rc=0 i
  status_node sw "${SWITCH_DAEMONS[@]}" || rc=1
  for ((i = 1; i <= LAB_HOSTS; i++)); do status_node "hv$i" "${HOST_DAEMONS[@]}" || rc=1; done
  if netns_exists "$(ns_name pc1)"; then printf '%-4s %-13s up   -\n' pc1 netns
  else printf '%-4s %-13s down -\n' pc1 netns; rc=1; fi
  exit "$rc"   # 0 only if everything runs (exit, not return: no ERR trap noise)
}

# Exit status: CMD's own; 125 if the node does not run (so callers can tell the two apart).
cmd_exec() {  # HOST [--] CMD...
  local node=${1:?usage: $PROG exec HOST -- CMD...}; shift
  [[ ${1:-} == -- ]] && shift
  (($#)) || die "usage: $PROG exec HOST -- CMD..."
  if [[ $node == pc[0-9]* ]]; then
    netns_exists "$(ns_name "$node")" || { warn "$node: namespace $(ns_name "$node") does not exist"; exit 125; }
    exec ip netns exec "$(ns_name "$node")" "$@"
  fi
  local k
  k=$(keeper_pid "$node") || { warn "$node is not running (no live keeper; run '$PROG up')"; exit 125; }
  exec nsenter -t "$k" -n -m -u -- "$@"
}

# Descendants of the given pids, found through the whole machine's parent links (a session's
# commands may have switched namespaces, e.g. `ip netns exec` on the host).
descendants() {  # PID...
  local -A kids=() seen=(); local pid ppid out=() queue=("$@") more=()
  while read -r pid ppid; do kids[$ppid]+=" $pid"; done < <(ps -e -o pid=,ppid=)
  while ((${#queue[@]})); do
    pid=${queue[0]}; queue=("${queue[@]:1}")
    [[ -z ${seen[$pid]:-} ]] || continue
    seen[$pid]=1
    out+=("$pid")
    read -ra more <<<"${kids[$pid]:-}"
    queue+=("${more[@]}")
  done
  printf '%s\n' "${out[@]}"
}

# Simulates a dead host for tests: its sshd listener and every session (and their commands) die.
cmd_kill_sshd() {  # HOST
  local node=${1:?usage: $PROG kill-sshd HOST} netlink p comm roots=() all
  [[ $node =~ ^hv[0-9]+$ ]] || die "kill-sshd: HOST must be hvN"
  netlink=$(netns_link "$(ns_name "$node")") || die "$node: namespace does not exist"
  for p in $(lab_pids "$netlink"); do
    read -r comm 2>/dev/null <"/proc/$p/comm" || continue
    [[ $comm == sshd ]] && roots+=("$p")
  done
  ((${#roots[@]})) || { say "$node: no sshd running"; return 0; }
  mapfile -t all < <(descendants "${roots[@]}")
  kill -9 "${all[@]}" 2>/dev/null || true
  wait_until 5 pids_gone "${all[@]}" || die "$node: sshd processes survived SIGKILL"
  say "$node: killed sshd and its sessions (pids ${all[*]})"
}

# Simulates a daemon crashing and its service manager starting it again (tests, the chaos
# suite): SIGKILL of HOST's DAEMON, then the same start as `up`, waiting until it serves.
cmd_restart() {  # HOST DAEMON
  local node=${1:?usage: $PROG restart HOST DAEMON} daemon=${2:?usage: $PROG restart HOST DAEMON} pid k
  [[ $node =~ ^hv[0-9]+$ ]] || die "restart: HOST must be hvN"
  [[ " ${HOST_DAEMONS[*]} " == *" $daemon "* ]] || die "restart: DAEMON must be one of: ${HOST_DAEMONS[*]}"
  k=$(keeper_pid "$node") || die "$node: not running (no keeper); run \`$PROG up\`"
  if pid=$(daemon_pid "$node" "$daemon"); then
    kill -9 "$pid" 2>/dev/null || true
    wait_until 5 pids_gone "$pid" || die "$node: $daemon (pid $pid) survived SIGKILL"
  fi
  ensure_daemon "$node" "$k" "$daemon"
  say "$node: restarted $daemon (was pid ${pid:-none}, now pid $(daemon_pid "$node" "$daemon"))"
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

main() {
  local cmd=${1:-help}
  (($#)) && shift
  case $cmd in
    up) parse_flags "$@"; cmd_up ;;
    down) parse_flags "$@"; cmd_down ;;
    status) parse_flags "$@"; cmd_status ;;
    exec) parse_flags; resolve_settings 1; cmd_exec "$@" ;;
    kill-sshd) local h=${1:-}; (($#)) && shift; parse_flags "$@"; cmd_kill_sshd "$h" ;;
    restart) local h=${1:-} dmn=${2:-}; (($# >= 2)) && shift 2; parse_flags "$@"; resolve_settings 1; cmd_restart "$h" "$dmn" ;;
    help | -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

[[ $EUID == 0 ]] || die "must run as root (it creates namespaces and starts system daemons)"
main "$@"
