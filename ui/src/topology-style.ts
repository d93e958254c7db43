/*
 * The topology's cytoscape stylesheet: shapes by node kind (topology-model.ts), colours from
 * each element's data (its VLAN's), state by class: dashed where a VLAN is not carried or a VM
 * is not running, red where there is drift or a host cannot be read.
 */

export const DRIFT = '#d93838';
const INK = '#1f2933';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

export const TOPOLOGY_STYLE = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-family': FONT,
      'font-size': 11,
      color: INK,
      'text-wrap': 'wrap',
      'text-valign': 'center',
      'text-halign': 'center',
      'border-width': 0,
      'min-zoomed-font-size': 6,
    },
  },
  {
    selector: 'node.switch',
    style: {
      shape: 'round-rectangle',
      width: 190,
      height: 44,
      'background-color': '#1f2933',
      color: '#fff',
      'font-size': 13,
      'font-weight': 'bold',
    },
  },
  {
    selector: 'node.host',
    style: {
      shape: 'round-rectangle',
      'background-color': '#ffffff',
      'background-opacity': 0.55,
      'border-width': 2,
      'border-color': '#3a4a5c',
      label: 'data(label)',
      // Below the box: the uplinks come in from the switch above.
      'text-valign': 'bottom',
      'text-halign': 'center',
      'text-margin-y': 8,
      'font-size': 13,
      'font-weight': 'bold',
      padding: 18,
      'z-compound-depth': 'auto',
    },
  },
  {
    selector: 'node.host.status-unreachable, node.host.status-unknown',
    style: { 'border-color': DRIFT, 'border-style': 'dashed', color: DRIFT },
  },
  { selector: 'node.host.stale', style: { 'border-style': 'dashed' } },
  {
    selector: 'node.uplink',
    style: { shape: 'round-rectangle', width: 110, height: 32, 'background-color': '#5f6b7a', color: '#fff', 'font-weight': 'bold' },
  },
  {
    selector: 'node.uplink.missing',
    style: { 'background-color': '#fff', 'border-width': 2, 'border-color': DRIFT, 'border-style': 'dashed', color: DRIFT },
  },
  {
    selector: 'node.bridge',
    style: {
      shape: 'round-rectangle',
      width: 110,
      height: 32,
      'background-color': 'data(color)',
      color: '#fff',
      'font-weight': 'bold',
    },
  },
  {
    selector: 'node.bridge.bar',
    style: {
      width: 'data(width)',
      height: 'data(height)',
      color: INK,
      'text-valign': 'top',
      'text-halign': 'right',
      'text-margin-x': 6,
      'text-margin-y': 16,
      'font-size': 12,
    },
  },
  {
    selector: 'node.bridge.missing',
    style: { 'background-color': '#fff', 'border-width': 2, 'border-color': DRIFT, 'border-style': 'dashed' },
  },
  {
    selector: 'node.cell',
    style: {
      shape: 'round-rectangle',
      width: 92,
      height: 44,
      'background-color': 'data(color)',
      color: '#fff',
      'font-weight': 'bold',
      'font-size': 11,
    },
  },
  {
    selector: 'node.cell.not-carried',
    style: { 'background-color': '#fff', 'border-width': 2, 'border-style': 'dashed', 'border-color': 'data(color)', color: 'data(color)' },
  },
  {
    selector: 'node.nic, node.port',
    style: {
      shape: 'round-rectangle',
      width: 112,
      height: 42,
      'background-color': '#fff',
      'border-width': 3,
      'border-color': 'data(color)',
    },
  },
  { selector: 'node.port', style: { shape: 'cut-rectangle', 'background-color': '#eef1f4', 'border-width': 2 } },
  { selector: 'node.down', style: { 'border-style': 'dashed', color: '#7b8794' } },
  { selector: 'node.all-vlans', style: { 'border-color': '#e8710a', 'border-style': 'double', 'border-width': 5 } },
  {
    selector: 'node.drift',
    style: {
      'border-width': 4,
      'border-color': DRIFT,
      'border-style': 'solid',
      'underlay-color': DRIFT,
      'underlay-opacity': 0.18,
      'underlay-padding': 6,
    },
  },
  {
    selector: 'node.lane',
    style: {
      shape: 'rectangle',
      width: 'data(width)',
      height: 'data(height)',
      'background-color': 'data(color)',
      'background-opacity': 0.1,
      label: '',
      events: 'no',
      'z-compound-depth': 'bottom',
      'z-index': 0,
    },
  },
  {
    selector: 'node.lane-label',
    style: {
      shape: 'round-rectangle',
      width: 140,
      height: 50,
      'background-color': 'data(color)',
      color: '#fff',
      'font-weight': 'bold',
      'font-size': 12,
    },
  },
  { selector: 'node.note', style: { shape: 'round-rectangle', width: 200, height: 40, 'background-color': '#fdecec', color: DRIFT } },
  { selector: 'node:selected', style: { 'overlay-color': '#2f6fdf', 'overlay-opacity': 0.18, 'overlay-padding': 6 } },
  {
    selector: 'edge',
    style: {
      width: 3,
      'line-color': 'data(color)',
      'curve-style': 'straight',
      label: 'data(label)',
      'font-family': FONT,
      'font-size': 10,
      color: INK,
      'text-background-color': '#fff',
      'text-background-opacity': 0.85,
      'text-background-padding': '2px',
      'text-rotation': 'none',
    },
  },
  { selector: 'edge[sourceEndpoint]', style: { 'source-endpoint': 'data(sourceEndpoint)' } },
  { selector: 'edge[targetEndpoint]', style: { 'target-endpoint': 'data(targetEndpoint)' } },
  { selector: 'edge.uplink', style: { width: 4, 'line-color': '#5f6b7a' } },
  { selector: 'edge.not-carried', style: { 'line-style': 'dashed', width: 2, opacity: 0.6 } },
  { selector: 'edge.down', style: { 'line-style': 'dashed', opacity: 0.6 } },
  { selector: 'edge.stripe', style: { width: 3, 'text-margin-y': -10 } },
  { selector: 'edge.drift', style: { 'line-color': DRIFT } },
  { selector: 'edge.all-vlans', style: { 'line-color': '#e8710a', 'line-style': 'dashed' } },
  { selector: 'edge.missing', style: { 'line-color': DRIFT, 'line-style': 'dashed' } },
];
