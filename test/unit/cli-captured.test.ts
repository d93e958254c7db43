import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Job, JobEvent, Plan } from '../../cli/api.ts';
import { exitCodeForJobState } from '../../cli/errors.ts';
import { PLAN_STEP_COLUMNS, JOB_FIELDS } from '../../cli/output/columns.ts';
import { eventLines, stepWord } from '../../cli/output/events.ts';
import { render } from '../../cli/output/format.ts';
import { renderJob, renderOutcome } from '../../cli/output/job.ts';
import { renderPlan } from '../../cli/output/plan.ts';
import { painter } from '../../cli/output/style.ts';
import { JobProgressModel } from '../../cli/progress.ts';
import { ApiClient, type FetchLike } from '../../cli/client.ts';
import { SseParser } from '../../src/sse/event-stream.ts';
import { followJob, WaitTimeout } from '../../cli/wait.ts';
import { runCli } from '../../cli/program.ts';

/*
 * Answers captured from the lab (a real gateway and worker, hv1 and hv2 over SSH), byte for byte:
 * the CLI's formatting, parsing and progress are tested on what the REST API really sends, not
 * on shapes written from memory. Captured with curl against /api/v1:
 *   PLAN      PUT  /vlans/1885?dryRun=true  {"hypervisors":["hv1","hv2"],"name":"cli-dev"}  (hosts never touched)
 *   FAILED    GET  /jobs/{id} of POST /hypervisors/hv1/bridges/ovsbr0/ports {"name":"nosuchdev0","tag":1885} (no such device)
 *   FAILED_SSE GET /jobs/{id}/events (Accept: text/event-stream) of that job, after it ended
 *   VERIFIED  GET  /jobs/{id} of POST /vlans/1885/verify {"hypervisors":["hv1","hv2"],"isolationFrom":[1002]}
 */
const PLAN: Plan = JSON.parse(
  String.raw`{"kind":"ensureVlan","hypervisors":["hv1","hv2"],"steps":[{"host":"hv1","description":"ensure bridge ovsbr0 exists (datapath netdev)","subject":"ovsbr0","observed":"absent","wouldChange":true,"command":"ovs-vsctl --timeout=10 --may-exist add-br ovsbr0 -- set Bridge ovsbr0 datapath_type=netdev","probeCommand":"ovs-vsctl --format=json --data=json --timeout=10 -- --columns=_uuid,name,datapath_type,ports list Bridge -- --columns=_uuid,name,tag,trunks,vlan_mode,interfaces list Port -- --columns=_uuid,name,type,ofport,external_ids,error list Interface","wanted":"datapath_type=netdev"},{"host":"hv1","description":"ensure uplink enp5s0f0 on ovsbr0 trunks VLAN 1885 (added to its trunks, others kept)","subject":"enp5s0f0/1885","observed":"absent","wouldChange":true,"command":"ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 enp5s0f0 -- add Port enp5s0f0 trunks 1885","probeCommand":"ovs-vsctl --format=json --data=json --timeout=10 -- --columns=_uuid,name,datapath_type,ports list Bridge -- --columns=_uuid,name,tag,trunks,vlan_mode,interfaces list Port -- --columns=_uuid,name,type,ofport,external_ids,error list Interface","wanted":"carries 1885"},{"host":"hv1","description":"ensure libvirt network ovs-network exists (if absent: defined on bridge ovsbr0 with portgroups vlan-0001, vlan-1885)","subject":"ovs-network","observed":"absent","wouldChange":true,"command":"virsh -c qemu:///system net-define /dev/stdin","probeCommand":"virsh -c qemu:///system 'net-info -- ovs-network; echo ::tl-6c168e87f6d6::; net-dumpxml --inactive -- ovs-network; echo ::tl-6c168e87f6d6::; net-dumpxml -- ovs-network'","wanted":"defined"},{"host":"hv1","description":"ensure libvirt network ovs-network is active and autostarted","subject":"ovs-network","observed":"absent","wouldChange":true,"command":"virsh -c qemu:///system 'net-start -- ovs-network; net-autostart -- ovs-network'","probeCommand":"virsh -c qemu:///system net-info -- ovs-network","wanted":"active=yes autostart=yes"},{"host":"hv1","description":"ensure portgroup vlan-1885 tag=1885 in network ovs-network (live and persistent)","subject":"ovs-network/vlan-1885","observed":"network absent","wouldChange":true,"command":"virsh -c qemu:///system net-update --live --config -- ovs-network add portgroup '<portgroup name='\\''vlan-1885'\\''><vlan><tag id='\\''1885'\\''/></vlan></portgroup>'","probeCommand":"virsh -c qemu:///system 'net-info -- ovs-network; echo ::tl-6c168e87f6d6::; net-dumpxml --inactive -- ovs-network; echo ::tl-6c168e87f6d6::; net-dumpxml -- ovs-network'","wanted":"vlan-1885 tag=1885"},{"host":"hv2","description":"ensure bridge ovsbr0 exists (datapath netdev)","subject":"ovsbr0","observed":"absent","wouldChange":true,"command":"ovs-vsctl --timeout=10 --may-exist add-br ovsbr0 -- set Bridge ovsbr0 datapath_type=netdev","probeCommand":"ovs-vsctl --format=json --data=json --timeout=10 -- --columns=_uuid,name,datapath_type,ports list Bridge -- --columns=_uuid,name,tag,trunks,vlan_mode,interfaces list Port -- --columns=_uuid,name,type,ofport,external_ids,error list Interface","wanted":"datapath_type=netdev"},{"host":"hv2","description":"ensure uplink enp5s0f0 on ovsbr0 trunks VLAN 1885 (added to its trunks, others kept)","subject":"enp5s0f0/1885","observed":"absent","wouldChange":true,"command":"ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 enp5s0f0 -- add Port enp5s0f0 trunks 1885","probeCommand":"ovs-vsctl --format=json --data=json --timeout=10 -- --columns=_uuid,name,datapath_type,ports list Bridge -- --columns=_uuid,name,tag,trunks,vlan_mode,interfaces list Port -- --columns=_uuid,name,type,ofport,external_ids,error list Interface","wanted":"carries 1885"},{"host":"hv2","description":"ensure libvirt network ovs-network exists (if absent: defined on bridge ovsbr0 with portgroups vlan-0001, vlan-1885)","subject":"ovs-network","observed":"absent","wouldChange":true,"command":"virsh -c qemu:///system net-define /dev/stdin","probeCommand":"virsh -c qemu:///system 'net-info -- ovs-network; echo ::tl-ecd86c6a962d::; net-dumpxml --inactive -- ovs-network; echo ::tl-ecd86c6a962d::; net-dumpxml -- ovs-network'","wanted":"defined"},{"host":"hv2","description":"ensure libvirt network ovs-network is active and autostarted","subject":"ovs-network","observed":"absent","wouldChange":true,"command":"virsh -c qemu:///system 'net-start -- ovs-network; net-autostart -- ovs-network'","probeCommand":"virsh -c qemu:///system net-info -- ovs-network","wanted":"active=yes autostart=yes"},{"host":"hv2","description":"ensure portgroup vlan-1885 tag=1885 in network ovs-network (live and persistent)","subject":"ovs-network/vlan-1885","observed":"network absent","wouldChange":true,"command":"virsh -c qemu:///system net-update --live --config -- ovs-network add portgroup '<portgroup name='\\''vlan-1885'\\''><vlan><tag id='\\''1885'\\''/></vlan></portgroup>'","probeCommand":"virsh -c qemu:///system 'net-info -- ovs-network; echo ::tl-ecd86c6a962d::; net-dumpxml --inactive -- ovs-network; echo ::tl-ecd86c6a962d::; net-dumpxml -- ovs-network'","wanted":"vlan-1885 tag=1885"}]}`,
);
const FAILED: Job = JSON.parse(
  String.raw`{"id":"584cc32e-4426-4055-a960-1168558f68e4","kind":"addPort","state":"FAILED","hypervisors":["hv1"],"ticketRef":null,"requestedBy":"test-admin","input":{"hypervisor":"hv1","bridge":"ovsbr0","name":"nosuchdev0","type":"system","tag":1885,"trunkAllVlans":false,"deviceMayBeMissing":false},"createdAt":"2026-12-01T18:50:16.143Z","startedAt":"2026-12-01T18:50:16.149Z","finishedAt":"2026-12-01T18:50:16.448Z","attempts":1,"progress":{"done":1,"total":1,"message":"step 1 (ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])) on hv1 failed: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true); rolled back step 1","percent":100},"error":{"code":"OVS_INTERFACE_ERROR","message":"step 1 (ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])) on hv1 failed: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true); rolled back step 1","step":0},"hosts":[{"hypervisor":"hv1","state":"FAILED","attempts":[{"number":1,"worker":"vm:10439","startedAt":"2026-12-01T18:50:16.149Z","endedAt":"2026-12-01T18:50:16.444Z","outcome":"FAILED","reason":null}],"message":"step 1 (ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])) on hv1 failed: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true); rolled back step 1","error":{"code":"OVS_INTERFACE_ERROR","message":"step 1 (ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])) on hv1 failed: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true); rolled back step 1","step":0},"startedAt":"2026-12-01T18:50:16.149Z","finishedAt":"2026-12-01T18:50:16.444Z","waitingFor":null,"planNote":null}],"steps":[{"index":0,"host":"hv1","description":"ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])","command":"ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 nosuchdev0 -- set Port nosuchdev0 tag=1885 'trunks=[]' 'vlan_mode=[]' -- set Interface nosuchdev0 'type=\"\"'","probeCommand":"ovs-vsctl --format=json --data=json --timeout=10 -- --columns=_uuid,name,datapath_type,ports list Bridge -- --columns=_uuid,name,tag,trunks,vlan_mode,interfaces list Port -- --columns=_uuid,name,type,ofport,external_ids,error list Interface","wanted":"bridge=ovsbr0 type=system tag=1885 trunks=[] vlan_mode=[]","observed":"absent","state":"FAILED","changed":null,"exitCode":0,"stdout":"","stderr":"ovs-vsctl: Error detected while setting up 'nosuchdev0': could not open network device nosuchdev0 (No such device).  See ovs-vswitchd log for details.\novs-vsctl: The default log directory is \"/var/log/openvswitch\".\n","startedAt":"2026-12-01T18:50:16.199Z","finishedAt":"2026-12-01T18:50:16.321Z","durationMs":122,"warning":null}],"rollback":[{"step":0,"host":"hv1","description":"ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])","command":"ovs-vsctl --timeout=10 --if-exists del-port nosuchdev0","state":"SUCCEEDED","message":"undone"}],"verification":null,"plan":{"kind":"addPort","hypervisors":["hv1"],"steps":[{"host":"hv1","description":"ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])","subject":"nosuchdev0","observed":"absent","wouldChange":true,"command":"ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 nosuchdev0 -- set Port nosuchdev0 tag=1885 'trunks=[]' 'vlan_mode=[]' -- set Interface nosuchdev0 'type=\"\"'","probeCommand":"ovs-vsctl --format=json --data=json --timeout=10 -- --columns=_uuid,name,datapath_type,ports list Bridge -- --columns=_uuid,name,tag,trunks,vlan_mode,interfaces list Port -- --columns=_uuid,name,type,ofport,external_ids,error list Interface","wanted":"bridge=ovsbr0 type=system tag=1885 trunks=[] vlan_mode=[]"}]}}`,
);
const VERIFIED: Job = JSON.parse(
  `{"id":"9928fc80-d83c-4014-8e91-5f579a27a109","kind":"verifyVlan","state":"SUCCEEDED","hypervisors":["hv1","hv2"],"ticketRef":null,"requestedBy":"test-admin","input":{"tag":1885,"hypervisors":["hv1","hv2"],"isolationFrom":[1002],"spec":{"tag":1885,"isolationFrom":[1002],"probes":[{"host":"hv1","vlan":1885,"namespace":"tlp1885","port":"tlp1885h","address":"198.19.135.10","member":true,"bridge":"ovsbr0"},{"host":"hv1","vlan":1002,"namespace":"tlp1002x","port":"tlp1002xh","address":"198.19.135.100","member":false,"bridge":"ovsbr0"},{"host":"hv2","vlan":1885,"namespace":"tlp1885","port":"tlp1885h","address":"198.19.135.11","member":true,"bridge":"ovsbr0"},{"host":"hv2","vlan":1002,"namespace":"tlp1002x","port":"tlp1002xh","address":"198.19.135.110","member":false,"bridge":"ovsbr0"}]}},"createdAt":"2026-12-01T18:50:21.715Z","startedAt":"2026-12-01T18:50:21.723Z","finishedAt":"2026-12-01T18:50:23.802Z","attempts":1,"progress":{"done":5,"total":5,"message":"VLAN 1885 works: 6 pings as expected","percent":100},"error":null,"hosts":[{"hypervisor":"hv1","state":"SUCCEEDED","attempts":[{"number":1,"worker":"unknown","startedAt":"2026-12-01T18:50:21.723Z","endedAt":"2026-12-01T18:50:23.802Z","outcome":"SUCCEEDED","reason":null}],"message":"remove probes on hv1: probes removed","error":null,"startedAt":"2026-12-01T18:50:21.723Z","finishedAt":"2026-12-01T18:50:23.802Z","waitingFor":null,"planNote":null},{"hypervisor":"hv2","state":"SUCCEEDED","attempts":[{"number":1,"worker":"unknown","startedAt":"2026-12-01T18:50:21.723Z","endedAt":"2026-12-01T18:50:23.802Z","outcome":"SUCCEEDED","reason":null}],"message":"remove probes on hv2: probes removed","error":null,"startedAt":"2026-12-01T18:50:21.723Z","finishedAt":"2026-12-01T18:50:23.802Z","waitingFor":null,"planNote":null}],"steps":[{"index":0,"host":"hv1","description":"create probes on hv1: VLAN 1885 at 198.19.135.10, VLAN 1002 at 198.19.135.100","command":"ip netns add tlp1885 && ip link add tlp1885h type veth peer name eth0 netns tlp1885 && ip -n tlp1885 addr add 198.19.135.10/24 dev eth0 && ip -n tlp1885 link set eth0 up && ip -n tlp1885 link set lo up && ip link set tlp1885h up && ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 tlp1885h -- set Port tlp1885h tag=1885 && ip netns add tlp1002x && ip link add tlp1002xh type veth peer name eth0 netns tlp1002x && ip -n tlp1002x addr add 198.19.135.100/24 dev eth0 && ip -n tlp1002x link set eth0 up && ip -n tlp1002x link set lo up && ip link set tlp1002xh up && ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 tlp1002xh -- set Port tlp1002xh tag=1002","probeCommand":"ip netns list","wanted":"done","observed":"2 probe(s) up","state":"SUCCEEDED","changed":true,"exitCode":null,"stdout":null,"stderr":null,"startedAt":"2026-12-01T18:50:21.725Z","finishedAt":"2026-12-01T18:50:22.143Z","durationMs":417,"warning":null},{"index":1,"host":"hv2","description":"create probes on hv2: VLAN 1885 at 198.19.135.11, VLAN 1002 at 198.19.135.110","command":"ip netns add tlp1885 && ip link add tlp1885h type veth peer name eth0 netns tlp1885 && ip -n tlp1885 addr add 198.19.135.11/24 dev eth0 && ip -n tlp1885 link set eth0 up && ip -n tlp1885 link set lo up && ip link set tlp1885h up && ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 tlp1885h -- set Port tlp1885h tag=1885 && ip netns add tlp1002x && ip link add tlp1002xh type veth peer name eth0 netns tlp1002x && ip -n tlp1002x addr add 198.19.135.110/24 dev eth0 && ip -n tlp1002x link set eth0 up && ip -n tlp1002x link set lo up && ip link set tlp1002xh up && ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 tlp1002xh -- set Port tlp1002xh tag=1002","probeCommand":"ip netns list","wanted":"done","observed":"2 probe(s) up","state":"SUCCEEDED","changed":true,"exitCode":null,"stdout":null,"stderr":null,"startedAt":"2026-12-01T18:50:21.725Z","finishedAt":"2026-12-01T18:50:22.173Z","durationMs":447,"warning":null},{"index":2,"host":"hv1","description":"ping matrix: 2 pairs must reach, 4 must not","command":"ip netns exec PROBE ping -n -q -c 3 -i 0.2 -W 1 ADDRESS (each pair)","probeCommand":"ip netns list","wanted":"done","observed":"6 of 6 pings as expected","state":"SUCCEEDED","changed":false,"exitCode":null,"stdout":null,"stderr":null,"startedAt":"2026-12-01T18:50:22.174Z","finishedAt":"2026-12-01T18:50:23.626Z","durationMs":1452,"warning":null},{"index":3,"host":"hv1","description":"remove probes on hv1","command":"ovs-vsctl --timeout=10 --if-exists del-port tlp1885h && ip link del tlp1885h && ip netns del tlp1885 && ovs-vsctl --timeout=10 --if-exists del-port tlp1002xh && ip link del tlp1002xh && ip netns del tlp1002x","probeCommand":"ip netns list","wanted":"done","observed":"probes removed","state":"SUCCEEDED","changed":true,"exitCode":null,"stdout":null,"stderr":null,"startedAt":"2026-12-01T18:50:23.628Z","finishedAt":"2026-12-01T18:50:23.786Z","durationMs":158,"warning":null},{"index":4,"host":"hv2","description":"remove probes on hv2","command":"ovs-vsctl --timeout=10 --if-exists del-port tlp1885h && ip link del tlp1885h && ip netns del tlp1885 && ovs-vsctl --timeout=10 --if-exists del-port tlp1002xh && ip link del tlp1002xh && ip netns del tlp1002x","probeCommand":"ip netns list","wanted":"done","observed":"probes removed","state":"SUCCEEDED","changed":true,"exitCode":null,"stdout":null,"stderr":null,"startedAt":"2026-12-01T18:50:23.628Z","finishedAt":"2026-12-01T18:50:23.800Z","durationMs":170,"warning":null}],"rollback":[],"verification":{"tag":1885,"isolationFrom":[1002],"results":[{"fromHost":"hv1","fromVlan":1885,"fromAddress":"198.19.135.10","toHost":"hv2","toAddress":"198.19.135.11","expect":"REACH","sent":3,"received":3,"lossPercent":0,"rttAvgMs":3.128,"ok":true},{"fromHost":"hv2","fromVlan":1885,"fromAddress":"198.19.135.11","toHost":"hv1","toAddress":"198.19.135.10","expect":"REACH","sent":3,"received":3,"lossPercent":0,"rttAvgMs":3.344,"ok":true},{"fromHost":"hv1","fromVlan":1002,"fromAddress":"198.19.135.100","toHost":"hv1","toAddress":"198.19.135.10","expect":"ISOLATED","sent":3,"received":0,"lossPercent":100,"rttAvgMs":null,"ok":true},{"fromHost":"hv1","fromVlan":1002,"fromAddress":"198.19.135.100","toHost":"hv2","toAddress":"198.19.135.11","expect":"ISOLATED","sent":3,"received":0,"lossPercent":100,"rttAvgMs":null,"ok":true},{"fromHost":"hv2","fromVlan":1002,"fromAddress":"198.19.135.110","toHost":"hv1","toAddress":"198.19.135.10","expect":"ISOLATED","sent":3,"received":0,"lossPercent":100,"rttAvgMs":null,"ok":true},{"fromHost":"hv2","fromVlan":1002,"fromAddress":"198.19.135.110","toHost":"hv2","toAddress":"198.19.135.11","expect":"ISOLATED","sent":3,"received":0,"lossPercent":100,"rttAvgMs":null,"ok":true}],"ok":true},"plan":{"kind":"verifyVlan","hypervisors":["hv1","hv2"],"steps":[{"host":"hv1","description":"create probes on hv1: VLAN 1885 at 198.19.135.10, VLAN 1002 at 198.19.135.100","subject":"hv1","observed":null,"wouldChange":null,"command":"ip netns add tlp1885 && ip link add tlp1885h type veth peer name eth0 netns tlp1885 && ip -n tlp1885 addr add 198.19.135.10/24 dev eth0 && ip -n tlp1885 link set eth0 up && ip -n tlp1885 link set lo up && ip link set tlp1885h up && ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 tlp1885h -- set Port tlp1885h tag=1885 && ip netns add tlp1002x && ip link add tlp1002xh type veth peer name eth0 netns tlp1002x && ip -n tlp1002x addr add 198.19.135.100/24 dev eth0 && ip -n tlp1002x link set eth0 up && ip -n tlp1002x link set lo up && ip link set tlp1002xh up && ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 tlp1002xh -- set Port tlp1002xh tag=1002","probeCommand":"ip netns list","wanted":"done"},{"host":"hv2","description":"create probes on hv2: VLAN 1885 at 198.19.135.11, VLAN 1002 at 198.19.135.110","subject":"hv2","observed":null,"wouldChange":null,"command":"ip netns add tlp1885 && ip link add tlp1885h type veth peer name eth0 netns tlp1885 && ip -n tlp1885 addr add 198.19.135.11/24 dev eth0 && ip -n tlp1885 link set eth0 up && ip -n tlp1885 link set lo up && ip link set tlp1885h up && ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 tlp1885h -- set Port tlp1885h tag=1885 && ip netns add tlp1002x && ip link add tlp1002xh type veth peer name eth0 netns tlp1002x && ip -n tlp1002x addr add 198.19.135.110/24 dev eth0 && ip -n tlp1002x link set eth0 up && ip -n tlp1002x link set lo up && ip link set tlp1002xh up && ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 tlp1002xh -- set Port tlp1002xh tag=1002","probeCommand":"ip netns list","wanted":"done"},{"host":"hv1","description":"ping matrix: 2 pairs must reach, 4 must not","subject":"hv1","observed":null,"wouldChange":null,"command":"ip netns exec PROBE ping -n -q -c 3 -i 0.2 -W 1 ADDRESS (each pair)","probeCommand":"ip netns list","wanted":"done"},{"host":"hv1","description":"remove probes on hv1","subject":"hv1","observed":null,"wouldChange":null,"command":"ovs-vsctl --timeout=10 --if-exists del-port tlp1885h && ip link del tlp1885h && ip netns del tlp1885 && ovs-vsctl --timeout=10 --if-exists del-port tlp1002xh && ip link del tlp1002xh && ip netns del tlp1002x","probeCommand":"ip netns list","wanted":"done"},{"host":"hv2","description":"remove probes on hv2","subject":"hv2","observed":null,"wouldChange":null,"command":"ovs-vsctl --timeout=10 --if-exists del-port tlp1885h && ip link del tlp1885h && ip netns del tlp1885 && ovs-vsctl --timeout=10 --if-exists del-port tlp1002xh && ip link del tlp1002xh && ip netns del tlp1002x","probeCommand":"ip netns list","wanted":"done"}]}}`,
);
const FAILED_SSE = String.raw`retry: 1000

id: 1796151016144-0
event: QUEUED
data: {"id":"1796151016144-0","sequence":null,"jobId":"584cc32e-4426-4055-a960-1168558f68e4","kind":"addPort","ticketRef":null,"type":"QUEUED","at":"2026-12-01T18:50:16.143Z","state":"QUEUED","hypervisor":null,"step":null,"progress":{"done":0,"total":1,"message":"queued","percent":0},"message":"queued addPort on hv1","error":null}

id: 1796151016150-0
event: STARTED
data: {"id":"1796151016150-0","sequence":null,"jobId":"584cc32e-4426-4055-a960-1168558f68e4","kind":"addPort","ticketRef":null,"type":"STARTED","at":"2026-12-01T18:50:16.149Z","state":"RUNNING","hypervisor":null,"step":null,"progress":{"done":0,"total":1,"message":"started","percent":0},"message":"started","error":null}

id: 1796151016150-1
event: HOST_STARTED
data: {"id":"1796151016150-1","sequence":null,"jobId":"584cc32e-4426-4055-a960-1168558f68e4","kind":"addPort","ticketRef":null,"type":"HOST_STARTED","at":"2026-12-01T18:50:16.149Z","state":"RUNNING","hypervisor":"hv1","step":null,"progress":{"done":0,"total":1,"message":"hv1: started","percent":0},"message":"hv1: started","error":null}

id: 1796151016198-0
event: HOST_PLANNED
data: {"id":"1796151016198-0","sequence":null,"jobId":"584cc32e-4426-4055-a960-1168558f68e4","kind":"addPort","ticketRef":null,"type":"HOST_PLANNED","at":"2026-12-01T18:50:16.198Z","state":"RUNNING","hypervisor":"hv1","step":null,"progress":{"done":0,"total":1,"message":"hv1: planned from the host as it is (its OVS tables, 1 round trip): 1 step, 1 to change","percent":0},"message":"hv1: planned from the host as it is (its OVS tables, 1 round trip): 1 step, 1 to change","error":null}

id: 1796151016199-0
event: STEP_STARTED
data: {"id":"1796151016199-0","sequence":null,"jobId":"584cc32e-4426-4055-a960-1168558f68e4","kind":"addPort","ticketRef":null,"type":"STEP_STARTED","at":"2026-12-01T18:50:16.199Z","state":"RUNNING","hypervisor":"hv1","step":{"index":0,"host":"hv1","description":"ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])","command":"ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 nosuchdev0 -- set Port nosuchdev0 tag=1885 'trunks=[]' 'vlan_mode=[]' -- set Interface nosuchdev0 'type=\"\"'","probeCommand":"ovs-vsctl --format=json --data=json --timeout=10 -- --columns=_uuid,name,datapath_type,ports list Bridge -- --columns=_uuid,name,tag,trunks,vlan_mode,interfaces list Port -- --columns=_uuid,name,type,ofport,external_ids,error list Interface","wanted":"bridge=ovsbr0 type=system tag=1885 trunks=[] vlan_mode=[]","observed":null,"state":"RUNNING","changed":null,"exitCode":null,"stdout":null,"stderr":null,"startedAt":"2026-12-01T18:50:16.199Z","finishedAt":null,"durationMs":null,"warning":null},"progress":{"done":0,"total":1,"message":"step 1/1: ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])","percent":0},"message":"step 1/1: ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])","error":null}

id: 1796151016321-0
event: STEP_FINISHED
data: {"id":"1796151016321-0","sequence":null,"jobId":"584cc32e-4426-4055-a960-1168558f68e4","kind":"addPort","ticketRef":null,"type":"STEP_FINISHED","at":"2026-12-01T18:50:16.321Z","state":"RUNNING","hypervisor":"hv1","step":{"index":0,"host":"hv1","description":"ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])","command":"ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 nosuchdev0 -- set Port nosuchdev0 tag=1885 'trunks=[]' 'vlan_mode=[]' -- set Interface nosuchdev0 'type=\"\"'","probeCommand":"ovs-vsctl --format=json --data=json --timeout=10 -- --columns=_uuid,name,datapath_type,ports list Bridge -- --columns=_uuid,name,tag,trunks,vlan_mode,interfaces list Port -- --columns=_uuid,name,type,ofport,external_ids,error list Interface","wanted":"bridge=ovsbr0 type=system tag=1885 trunks=[] vlan_mode=[]","observed":"absent","state":"FAILED","changed":null,"exitCode":0,"stdout":"","stderr":"ovs-vsctl: Error detected while setting up 'nosuchdev0': could not open network device nosuchdev0 (No such device).  See ovs-vswitchd log for details.\novs-vsctl: The default log directory is \"/var/log/openvswitch\".\n","startedAt":"2026-12-01T18:50:16.199Z","finishedAt":"2026-12-01T18:50:16.321Z","durationMs":122,"warning":null},"progress":{"done":1,"total":1,"message":"step 1 failed on hv1: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true)","percent":100},"message":"step 1 failed on hv1: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true)","error":null}

id: 1796151016363-0
event: STEP_ROLLED_BACK
data: {"id":"1796151016363-0","sequence":null,"jobId":"584cc32e-4426-4055-a960-1168558f68e4","kind":"addPort","ticketRef":null,"type":"STEP_ROLLED_BACK","at":"2026-12-01T18:50:16.363Z","state":"RUNNING","hypervisor":"hv1","step":{"index":0,"host":"hv1","description":"ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])","command":"ovs-vsctl --timeout=10 --may-exist add-port ovsbr0 nosuchdev0 -- set Port nosuchdev0 tag=1885 'trunks=[]' 'vlan_mode=[]' -- set Interface nosuchdev0 'type=\"\"'","probeCommand":"ovs-vsctl --format=json --data=json --timeout=10 -- --columns=_uuid,name,datapath_type,ports list Bridge -- --columns=_uuid,name,tag,trunks,vlan_mode,interfaces list Port -- --columns=_uuid,name,type,ofport,external_ids,error list Interface","wanted":"bridge=ovsbr0 type=system tag=1885 trunks=[] vlan_mode=[]","observed":"absent","state":"FAILED","changed":null,"exitCode":0,"stdout":"","stderr":"ovs-vsctl: Error detected while setting up 'nosuchdev0': could not open network device nosuchdev0 (No such device).  See ovs-vswitchd log for details.\novs-vsctl: The default log directory is \"/var/log/openvswitch\".\n","startedAt":"2026-12-01T18:50:16.199Z","finishedAt":"2026-12-01T18:50:16.321Z","durationMs":122,"warning":null},"progress":{"done":1,"total":1,"message":"step 1 rolled back","percent":100},"message":"step 1 rolled back","error":null}

id: 1796151016445-0
event: HOST_FINISHED
data: {"id":"1796151016445-0","sequence":null,"jobId":"584cc32e-4426-4055-a960-1168558f68e4","kind":"addPort","ticketRef":null,"type":"HOST_FINISHED","at":"2026-12-01T18:50:16.444Z","state":"RUNNING","hypervisor":"hv1","step":null,"progress":{"done":1,"total":1,"message":"step 1 (ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])) on hv1 failed: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true); rolled back step 1","percent":100},"message":"step 1 (ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])) on hv1 failed: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true); rolled back step 1","error":{"code":"OVS_INTERFACE_ERROR","message":"step 1 (ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])) on hv1 failed: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true); rolled back step 1","step":0}}

id: 1796151016449-0
event: FAILED
data: {"id":"1796151016449-0","sequence":null,"jobId":"584cc32e-4426-4055-a960-1168558f68e4","kind":"addPort","ticketRef":null,"type":"FAILED","at":"2026-12-01T18:50:16.449Z","state":"FAILED","hypervisor":null,"step":null,"progress":{"done":1,"total":1,"message":"step 1 (ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])) on hv1 failed: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true); rolled back step 1","percent":100},"message":"step 1 (ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])) on hv1 failed: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true); rolled back step 1","error":{"code":"OVS_INTERFACE_ERROR","message":"step 1 (ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])) on hv1 failed: nosuchdev0: could not open network device nosuchdev0 (No such device) (if the device will appear later, e.g. a hotplugged NIC, add the port with deviceMayBeMissing: true); rolled back step 1","step":0}}

`;

const plain = painter(false);
const events = (): JobEvent[] =>
  new SseParser()
    .feed(FAILED_SSE)
    .filter((e) => e.event !== 'reconnect')
    .map((e) => JSON.parse(e.data) as JobEvent);

describe('the captured answers, as the CLI prints them', () => {
  it('a dry run prints every step per host with its exact command, and what would change', () => {
    const text = renderPlan(PLAN, plain);
    expect(text.split('\n')[0]).toBe('Plan: ensureVlan on hv1, hv2 (dry run: nothing was queued)');
    expect(text).toContain(`${PLAN.steps.length} steps, ${PLAN.steps.filter((s) => s.wouldChange !== false).length} would change`);
    for (const s of PLAN.steps) expect(text).toContain(`$ ${s.command}`);
    // Steps are numbered per host, under the host's name.
    expect(text).toMatch(
      /\nhv1\n {2}1\. ensure bridge ovsbr0 exists \(datapath netdev\)\n {5}would change: absent → datapath_type=netdev\n {5}\$ ovs-vsctl/,
    );
    expect(text).toMatch(/\nhv2\n {2}1\. ensure bridge ovsbr0/);
  });

  it('a plan as json is the answer as it came, and as value one step a line with the columns -c names', () => {
    const result = { data: PLAN, rows: PLAN.steps, columns: PLAN_STEP_COLUMNS, text: (p: typeof plain) => renderPlan(PLAN, p) };
    expect(JSON.parse(render(result, { format: 'json', columns: [], paint: plain }))).toEqual(PLAN);
    const lines = render(result, { format: 'value', columns: ['host', 'command'], paint: plain })
      .trimEnd()
      .split('\n');
    expect(lines).toEqual(PLAN.steps.map((s) => `${s.host} ${s.command}`));
  });

  it('a failed job: the outcome names the code, the failed step with its command and stderr, and the rollback', () => {
    const text = renderOutcome(FAILED, plain);
    expect(text.split('\n')[0]).toMatch(/^Job 584cc32e-4426-4055-a960-1168558f68e4 FAILED in 0\.3 s \(addPort on hv1\)$/);
    expect(text).toContain(`error: OVS_INTERFACE_ERROR: ${FAILED.error!.message}`);
    expect(text).toContain(`$ ${FAILED.steps[0]!.command}`);
    expect(text).toContain("ovs-vsctl: Error detected while setting up 'nosuchdev0'");
    expect(text).toContain('rollback on hv1: SUCCEEDED: ensure port nosuchdev0 on ovsbr0');
    // The progress message of a failure is its error: printed once.
    expect(text.split(FAILED.error!.message).length - 1).toBe(2); // the error line and the host row
    expect(exitCodeForJobState(FAILED.state)).toBe(1);
  });

  it('job show lists every step with its command; -c selects job fields', () => {
    const text = renderJob(VERIFIED, plain);
    for (const s of VERIFIED.steps) expect(text).toContain(`${s.host} ${s.index + 1}. ${stepWord(s)}  ${s.description}`);
    const value = render(
      { data: VERIFIED, row: VERIFIED, columns: JOB_FIELDS },
      { format: 'value', columns: ['state', 'kind', 'hypervisors'], paint: plain },
    );
    expect(value).toBe('SUCCEEDED\nverifyVlan\nhv1,hv2\n');
  });

  it('a verification prints its matrix: who pinged whom, on which VLAN, expecting what, with what result', () => {
    const text = renderOutcome(VERIFIED, plain);
    expect(text).toContain('VLAN 1885 works (isolated from 1002)');
    const header = text.split('\n').find((l) => l.startsWith('FROM'))!;
    expect(header.split(/\s+/)).toEqual(['FROM', 'VLAN', 'TO', 'EXPECT', 'RECEIVED', 'RTT_MS', 'RESULT']);
    expect(text).toMatch(/\nhv1 {3}1885 {2}hv2 {2}REACH {5}3\/3 {7}3\.128 {3}ok\n/);
    expect(text).toMatch(/\nhv2 {3}1002 {2}hv2 {2}ISOLATED {2}0\/3 {15}ok\n/);
    expect(exitCodeForJobState(VERIFIED.state)).toBe(0);
  });

  it('table output colours states only when asked to', () => {
    const coloured = renderOutcome(FAILED, painter(true));
    expect(coloured).toContain('\u001b[31mFAILED\u001b[39m');
    expect(renderOutcome(FAILED, plain)).not.toContain('\u001b[');
  });
});

describe('the captured event stream', () => {
  it('parses into the job log: ids, types and JobEvent data in order', () => {
    const parser = new SseParser();
    const parsed = parser.feed(FAILED_SSE);
    expect(parser.retryMs).toBe(1000);
    expect(parsed.map((e) => e.event)).toEqual([
      'QUEUED',
      'STARTED',
      'HOST_STARTED',
      'HOST_PLANNED',
      'STEP_STARTED',
      'STEP_FINISHED',
      'STEP_ROLLED_BACK',
      'HOST_FINISHED',
      'FAILED',
    ]);
    for (const e of parsed) expect((JSON.parse(e.data) as JobEvent).id).toBe(e.id);
    expect(parser.lastEventId).toBe(parsed.at(-1)!.id);
  });

  it('gives the same events however the bytes are split into chunks', () => {
    const whole = new SseParser().feed(FAILED_SSE);
    for (const size of [1, 7, 64, 1000]) {
      const parser = new SseParser();
      const got = [];
      for (let i = 0; i < FAILED_SSE.length; i += size) got.push(...parser.feed(FAILED_SSE.slice(i, i + size)));
      expect(got).toEqual(whole);
    }
    // The same stream with CRLF line ends.
    expect(new SseParser().feed(FAILED_SSE.replace(/\n/g, '\r\n'))).toEqual(whole);
  });

  it('drives the per-host progress and the step lines', () => {
    const start: Job = {
      ...FAILED,
      state: 'QUEUED',
      hosts: FAILED.hosts.map((h) => ({ ...h, state: 'PENDING' })),
      steps: FAILED.steps.map((s) => ({ ...s, state: 'PENDING' })),
    };
    const model = new JobProgressModel(start);
    expect(model.done('hv1')).toBe(0);
    const lines: string[] = [];
    for (const e of events()) {
      model.apply(e);
      lines.push(...eventLines(e, model, plain, 3));
    }
    expect(model.state).toBe('FAILED');
    expect(model.hosts.get('hv1')).toMatchObject({ state: 'FAILED', steps: [0], changed: 0 });
    expect(model.done('hv1')).toBe(1);
    expect(lines[0]).toBe('job  queued addPort on hv1');
    const failed = lines.findIndex((l) => l.startsWith('hv1  [1/1] FAILED'));
    expect(lines[failed]).toMatch(/^hv1 {2}\[1\/1\] FAILED {3}ensure port nosuchdev0 on ovsbr0 .* \(122 ms\)$/);
    expect(lines[failed + 1]).toBe(`           $ ${FAILED.steps[0]!.command}`);
    expect(lines[failed + 2]).toBe('           exit 0, observed: absent');
    expect(lines[failed + 3]).toContain("ovs-vsctl: Error detected while setting up 'nosuchdev0'");
    expect(lines).toContain('hv1  rolled back: ensure port nosuchdev0 on ovsbr0 (system, tag=1885 trunks=[] vlan_mode=[])');
    expect(lines.at(-1)).toMatch(/^hv1 {2}FAILED: step 1 \(ensure port nosuchdev0/);
    // Syncing with the final record changes nothing it already knew.
    model.sync(FAILED);
    expect(model.done('hv1')).toBe(1);
    expect(model.hosts.get('hv1')!.state).toBe('FAILED');
  });

  it('counts steps per host from the job record (a 2-host verification)', () => {
    const model = new JobProgressModel(VERIFIED);
    expect(model.hosts.get('hv1')!.steps).toEqual([0, 2, 3]);
    expect(model.position('hv1', 3)).toEqual({ n: 3, total: 3 });
    expect(model.position('hv2', 4)).toEqual({ n: 2, total: 2 });
    expect(model.done('hv2')).toBe(2);
  });
});

/** A gateway stand-in for the follower: the captured job log, served over as many connections as a test wants. */
function fakeGateway(
  opts: { dropAfter?: number; reconnectAfter?: number; refuse?: number; unreachable?: boolean; endless?: boolean } = {},
) {
  const blocks = FAILED_SSE.split('\n\n').filter((b) => b.startsWith('id:'));
  const seen: Array<string | null> = [];
  const fetch: FetchLike = async (url, init) => {
    const headers = new Headers(init.headers);
    if (opts.unreachable) throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    if (!url.endsWith('/events')) {
      const job = opts.endless ? { ...FAILED, state: 'RUNNING', finishedAt: null } : FAILED;
      return new Response(JSON.stringify(job), { headers: { 'content-type': 'application/json' } });
    }
    if (opts.refuse)
      return new Response(JSON.stringify({ status: opts.refuse, code: 'NOT_FOUND', detail: 'no job' }), {
        status: opts.refuse,
        headers: { 'content-type': 'application/problem+json' },
      });
    const after = headers.get('last-event-id');
    seen.push(after);
    const rest = after ? blocks.slice(blocks.findIndex((b) => b.startsWith(`id: ${after}\n`)) + 1) : blocks;
    // The first connection drops after a few events (a gateway restart); later ones run to the end.
    // An endless one stops before the job's end and stays open until the client goes away.
    const cut = seen.length === 1 ? (opts.dropAfter ?? opts.reconnectAfter) : undefined;
    const sent = opts.endless ? rest.slice(0, 3) : cut ? rest.slice(0, cut) : rest;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(`retry: 10\n\n${sent.map((b) => `${b}\n\n`).join('')}`));
        if (opts.endless) init.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')));
        // A connection cut mid-stream, as a network drop does it (undici: TypeError: terminated).
        else if (cut && opts.dropAfter) setTimeout(() => c.error(new TypeError('terminated')), 5);
        // A gateway that stops says so first (rest/sse.ts drainEventStreams).
        else if (cut) {
          c.enqueue(new TextEncoder().encode('event: reconnect\ndata: {"message":"gateway restarting","retryMs":1000}\n\n'));
          c.close();
        } else c.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
  };
  return { fetch, seen };
}

const queued = (): Job => ({
  ...FAILED,
  state: 'QUEUED',
  hosts: FAILED.hosts.map((h) => ({ ...h, state: 'PENDING' })),
  steps: FAILED.steps.map((s) => ({ ...s, state: 'PENDING' })),
});
const client = (fetch: FetchLike) => new ApiClient({ apiUrl: 'http://gw/api/v1', token: 'tl_a_b', fetch });
const noSleep = async () => {};

describe('following a job over its event stream (cli/wait.ts)', () => {
  it('resumes after a dropped connection with Last-Event-ID: every step line once, then the final job', async () => {
    const gw = fakeGateway({ dropAfter: 5 });
    const out: string[] = [];
    const final = await followJob(queued(), {
      client: client(gw.fetch),
      out: { write: (s: string) => out.push(s) },
      bars: false,
      paint: plain,
      sleep: noSleep,
    });
    expect(final).toEqual(FAILED);
    const ids = events().map((e) => e.id);
    expect(gw.seen).toEqual([null, ids[4]]);
    const text = out.join('');
    expect(text.match(/\[1\/1\] FAILED/g)).toHaveLength(1);
    expect(text.match(/queued addPort/g)).toHaveLength(1);
  });

  it('a gateway that stops sends `event: reconnect`: the follower resumes on the next connection', async () => {
    const gw = fakeGateway({ reconnectAfter: 2 });
    const final = await followJob(queued(), { client: client(gw.fetch), out: null, bars: false, paint: plain, sleep: noSleep });
    expect(final.state).toBe('FAILED');
    expect(gw.seen).toEqual([null, events()[1]!.id]);
  });

  it('a job whose log ends without its end (trimmed) ends with its record, after one more read', async () => {
    const blocks = FAILED_SSE.split('\n\n').filter((b) => b.startsWith('id:'));
    let streams = 0;
    const fetch: FetchLike = async (url) => {
      if (!url.endsWith('/events')) return new Response(JSON.stringify(FAILED), { headers: { 'content-type': 'application/json' } });
      streams++;
      const text = streams === 1 ? `${blocks.slice(0, 3).join('\n\n')}\n\n` : '';
      return new Response(text, { headers: { 'content-type': 'text/event-stream' } });
    };
    expect(await followJob(queued(), { client: client(fetch), out: null, bars: false, paint: plain, sleep: noSleep })).toEqual(FAILED);
    expect(streams).toBe(2);
  });

  it('Ctrl-C stops following (exit 130); the job goes on', async () => {
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(), 30);
    const err = await followJob(queued(), {
      client: client(fakeGateway({ endless: true }).fetch),
      out: null,
      bars: false,
      paint: plain,
      interrupt: interrupt.signal,
    }).catch((e) => e);
    expect(err).toMatchObject({ exitCode: 130, code: 'INTERRUPTED' });
    expect(err.hints).toEqual([`follow it again: trunkline job watch ${FAILED.id}`]);
  });

  it('an ended job is followed no further, unless asked to replay its log', async () => {
    const gw = fakeGateway();
    expect(await followJob(FAILED, { client: client(gw.fetch), out: null, bars: false, paint: plain })).toEqual(FAILED);
    expect(gw.seen).toEqual([]);
    const out: string[] = [];
    await followJob(FAILED, {
      client: client(gw.fetch),
      out: { write: (s: string) => out.push(s) },
      bars: false,
      paint: plain,
      replay: true,
    });
    expect(gw.seen).toEqual([null]);
    expect(out.join('')).toContain('[1/1] FAILED');
  });

  it('gives up at the timeout with the job as it is now (exit 5)', async () => {
    const gw = fakeGateway({ endless: true });
    const err = await followJob(queued(), { client: client(gw.fetch), out: null, bars: false, paint: plain, timeoutSeconds: 0.05 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(WaitTimeout);
    expect(err).toMatchObject({ exitCode: 5, code: 'WAIT_TIMEOUT' });
    expect((err as WaitTimeout).job.state).toBe('RUNNING');
  });

  it('a refusal of the stream is final; an unreachable gateway is retried, then exit 3', async () => {
    const refused = await followJob(queued(), {
      client: client(fakeGateway({ refuse: 404 }).fetch),
      out: null,
      bars: false,
      paint: plain,
    }).catch((e) => e);
    expect(refused).toMatchObject({ exitCode: 2, code: 'NOT_FOUND' });
    let attempts = 0;
    const down = fakeGateway({ unreachable: true });
    const counting: FetchLike = (url, init) => {
      if (url.endsWith('/events')) attempts++;
      return down.fetch(url, init);
    };
    const sleep = () => new Promise<void>((r) => setTimeout(r, 5));
    const err = await followJob(queued(), {
      client: client(counting),
      out: null,
      bars: false,
      paint: plain,
      sleep,
      unreachableSeconds: 0.02,
    }).catch((e) => e);
    expect(err).toMatchObject({ exitCode: 3, code: 'GATEWAY_UNREACHABLE' });
    expect(attempts).toBeGreaterThan(1);
  });

  it('draws per-host bars on a terminal, with the step lines above them', async () => {
    const gw = fakeGateway();
    let written = '';
    const tty = {
      isTTY: true,
      columns: 120,
      write: (s: string) => {
        written += s;
        return true;
      },
      on: () => tty,
      removeListener: () => tty,
    };
    await followJob(queued(), { client: client(gw.fetch), out: tty, bars: true, paint: plain, sleep: noSleep });
    const screen = stripVTControlCharacters(written);
    expect(screen).toMatch(/hv1 [░█]+ 1\/1 FAILED/);
    expect(screen).toContain('hv1  [1/1] FAILED   ensure port nosuchdev0');
  });
});

describe('trunkline vlan ensure --dry-run', () => {
  it('asks for the plan (?dryRun=true, the body as for the change) and prints it with its commands', async () => {
    let out = '';
    const sent: Array<{ url: string; body: unknown }> = [];
    const fetch: FetchLike = async (url, init) => {
      sent.push({ url, body: JSON.parse(String(init.body)) });
      return new Response(JSON.stringify(PLAN), { headers: { 'content-type': 'application/json' } });
    };
    const code = await runCli(
      ['-o', 'table', 'vlan', 'ensure', '1885', '--hosts', 'hv1,hv2', '--name', 'cli-dev', '--dry-run', '--ticket', 'CHG-7'],
      {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: () => true },
        env: {},
        home: '/nonexistent',
        fetch,
      },
    );
    expect(code).toBe(0);
    expect(sent).toEqual([
      {
        url: 'http://127.0.0.1:4000/api/v1/vlans/1885?dryRun=true',
        body: { hypervisors: ['hv1', 'hv2'], name: 'cli-dev', ticketRef: 'CHG-7' },
      },
    ]);
    expect(out).toBe(renderPlan(PLAN, plain));
  });
});
