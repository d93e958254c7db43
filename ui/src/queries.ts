/*
 * Every GraphQL document the UI sends (graphql/schema.graphql). The answers' shapes are in
 * types.ts; the e2e test captures real answers to these documents as the unit tests' fixtures.
 */

export const ME = `query Me { me { name role tokenId hostGroups } }`;

export const FLEET = `query Fleet {
  hypervisors {
    name address status stale ageSeconds observedAt
    lastError { code message }
    defaults { bridge uplink network }
    versions { ovs libvirt }
    uplink { name tag trunks vlanMode }
    bridges { name datapathType ports { name tag trunks vlanMode interfaces { type error } vmInterface { vmName mac } } }
    networks { name bridge active portgroups { name isDefault trunk vlanTags } }
    vms(first: 100) { totalCount nodes { name state interfaces { mac network portgroup bridge target vlanTags configuredVlanTags configuredTrunk trunksAllVlans } } }
  }
  vlans { tag name uplinks { hypervisorName bridge uplink carriage carried } drift { hypervisorName kind subject message } }
}`;

const VERIFICATION =
  'verification { tag ok isolationFrom results { fromHost fromVlan fromAddress toHost toAddress expect ok sent received lossPercent rttAvgMs } }';

/** The VLAN with its last verification (the verifyVlan job that ended last, null when none is kept or visible). */
export const VLAN_PAGE = `query VlanPage($tag: Int!) {
  vlan(tag: $tag) {
    tag name
    uplinks { hypervisorName bridge uplink carriage carried }
    missingOn { name }
    portgroups { hypervisorName network name trunk isDefault }
    interfaces { hypervisor vmName mac portgroup target vlanTags configuredVlanTags vm { state } }
    drift { hypervisorName kind subject message }
    lastVerification { id state createdAt finishedAt hypervisors ticketRef error { code message } ${VERIFICATION} }
  }
  allVlans: vlans { tag }
}`;

const JOB_ROW =
  'id kind state hypervisors ticketRef requestedBy createdAt startedAt finishedAt progress { percent done total message } error { code message step } hosts { hypervisor state }';

export const JOBS = `query Jobs($first: Int, $after: String, $filter: JobFilter) {
  jobs(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    nodes { ${JOB_ROW} }
  }
}`;

/** Every job's events from `since` on (live): the jobs list and the topology follow it. */
export const JOB_EVENTS = `subscription JobEvents($filter: JobEventFilter, $since: String) {
  jobEvents(filter: $filter, since: $since) { id sequence type at jobId hypervisor message state job { ${JOB_ROW} } }
}`;

const STEP =
  'index host description command probeCommand observed wanted state changed exitCode durationMs stdout stderr warning startedAt finishedAt';

/** The job without its steps, rollback and verification: what each live event brings. */
const JOB_LIVE = `${JOB_ROW} cancelRequested changedSteps attempts
  hosts { hypervisor state message startedAt finishedAt changedSteps planNote waitingFor error { code message }
    attempts { number worker outcome reason startedAt endedAt } }`;

const JOB_DETAIL = `${JOB_LIVE}
  steps { ${STEP} }
  rollback { step host description command state message }
  ${VERIFICATION}`;

export const JOB = `query Job($id: ID!) { job(id: $id) { ${JOB_DETAIL} events { id type at hypervisor message state } } }`;

/**
 * One job's events: the past ones first, then live ones; the stream ends with the job. Each
 * brings its step and the job without its steps (a job of many hosts has many steps: sending
 * them all with every event would grow as their square); the page reads the whole job again
 * when a host's plan is made, a step is rolled back and at the end (jobs-model.ts applyEvent).
 */
export const JOB_PROGRESS = `subscription JobProgress($id: ID!) {
  jobProgress(id: $id) { id sequence type at jobId hypervisor message state step { ${STEP} } job { ${JOB_LIVE} } }
}`;

export const CANCEL_JOB = `mutation CancelJob($id: ID!) { cancelJob(input: { id: $id }) { job { id state cancelRequested } userErrors { code message } } }`;
