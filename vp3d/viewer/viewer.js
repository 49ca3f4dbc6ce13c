// vp3d 3D viewer: the skeleton(s) of a vp3d joints file, orbit/zoom/pan, playback, and a video in sync.
// Data (built by vp3d/viewer/build.py): #vp3d-meta (JSON) and #vp3d-block-N (base64): per person a
// float32 (frames, 17, 3) block of Y-up scene coordinates and a uint8 (frames,) detected block.
// When there is a video it is the clock: the 3D shows the frame the video presents (requestVideoFrameCallback,
// or currentTime on 'seeked' / while playing), and the page's controls drive the video.
import * as THREE from 'three';
import { OrbitControls } from 'three/orbit';

const meta = JSON.parse(document.getElementById('vp3d-meta').textContent);
const J = meta.joint_names.length;
const fps = meta.fps;
const frameCount = Math.max(1, meta.frame_count);
const bones = meta.parents.map((p, j) => [p, j]).filter(([p]) => p >= 0);

function decodeBlock(i) {
  const text = document.getElementById('vp3d-block-' + i).textContent.trim();
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let k = 0; k < bin.length; k++) out[k] = bin.charCodeAt(k);
  return out;
}

// ---- scene ----
const pane = document.getElementById('scene');
const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(window.devicePixelRatio || 1);
pane.appendChild(renderer.domElement);
const scene = new THREE.Scene();
scene.background = new THREE.Color(0x15171a);
scene.add(new THREE.HemisphereLight(0xffffff, 0x444444, 2.0));
const sun = new THREE.DirectionalLight(0xffffff, 1.5);
sun.position.set(2, 5, 4);
scene.add(sun);

const camera = new THREE.PerspectiveCamera(45, 1, 0.05, 500);
const controls = new OrbitControls(camera, renderer.domElement);

const GREY = new THREE.Color(0x8a8a8a);
const sphere = new THREE.SphereGeometry(0.032, 12, 8);
const cylinder = new THREE.CylinderGeometry(0.016, 0.016, 1, 8);
const side = new Int8Array(J);
meta.left.forEach(j => { side[j] = -1; });
meta.right.forEach(j => { side[j] = 1; });

function jointColour(personColour, j) {
  if (!meta.multi) return new THREE.Color(side[j] < 0 ? 0x3c8cff : side[j] > 0 ? 0xff4646 : 0xe6e6e6);
  const c = new THREE.Color(personColour);
  return side[j] > 0 ? c.lerp(new THREE.Color(0xffffff), 0.45) : c;  // right side lighter, as the render
}

const people = meta.people.map(p => {
  const joints = new Float32Array(decodeBlock(p.joints_block).buffer);
  const detected = decodeBlock(p.detected_block);
  const material = new THREE.MeshLambertMaterial();
  const jointMesh = new THREE.InstancedMesh(sphere, material, J);
  const boneMesh = new THREE.InstancedMesh(cylinder, material, bones.length);
  const colours = Array.from({ length: J }, (_, j) => jointColour(p.colour, j));
  const group = new THREE.Group();
  group.add(jointMesh, boneMesh);
  scene.add(group);
  return { ...p, joints, detected, jointMesh, boneMesh, colours, group, filled: null };
});

// Floor grid and the camera's target: around the median hip position of the first person.
function medianHip() {
  const p = people[0];
  if (!p || p.frames === 0) return new THREE.Vector3(0, 1, 0);
  const xs = [], ys = [], zs = [];
  const step = Math.max(1, Math.floor(p.frames / 500));
  for (let f = 0; f < p.frames; f += step) {
    xs.push(p.joints[f * J * 3]); ys.push(p.joints[f * J * 3 + 1]); zs.push(p.joints[f * J * 3 + 2]);
  }
  const med = a => a.sort((u, v) => u - v)[a.length >> 1];
  return new THREE.Vector3(med(xs), med(ys), med(zs));
}
const centre = medianHip();
const grid = new THREE.GridHelper(10, 20, 0x5a606a, 0x34383f);
grid.position.set(centre.x, meta.floor_y, centre.z);
scene.add(grid);
controls.target.set(centre.x, (centre.y + meta.floor_y) / 2 + 0.3, centre.z);
camera.position.set(centre.x + 0.8, controls.target.y + 0.7, centre.z + 3.8);
controls.update();

// ---- one frame ----
const m4 = new THREE.Matrix4(), q = new THREE.Quaternion(), s3 = new THREE.Vector3();
const a3 = new THREE.Vector3(), b3 = new THREE.Vector3(), d3 = new THREE.Vector3();
const Y = new THREE.Vector3(0, 1, 0);
let current = -1;
let needsRender = true;

function setPerson(p, f) {
  const local = f - p.first_frame;
  if (local < 0 || local >= p.frames) { p.group.visible = false; return; }
  p.group.visible = true;
  const base = local * J * 3, jt = p.joints;
  for (let j = 0; j < J; j++) {
    m4.makeTranslation(jt[base + 3 * j], jt[base + 3 * j + 1], jt[base + 3 * j + 2]);
    p.jointMesh.setMatrixAt(j, m4);
  }
  bones.forEach(([a, b], k) => {
    a3.fromArray(jt, base + 3 * a); b3.fromArray(jt, base + 3 * b);
    d3.subVectors(b3, a3);
    const len = d3.length();
    q.setFromUnitVectors(Y, len > 1e-9 ? d3.divideScalar(len) : Y);
    m4.compose(a3.add(b3).multiplyScalar(0.5), q, s3.set(1, Math.max(len, 1e-6), 1));
    p.boneMesh.setMatrixAt(k, m4);
  });
  p.jointMesh.instanceMatrix.needsUpdate = true;
  p.boneMesh.instanceMatrix.needsUpdate = true;
  const filled = !p.detected[local];
  if (filled !== p.filled) {  // grey while the frame was filled in, not detected
    p.filled = filled;
    for (let j = 0; j < J; j++) p.jointMesh.setColorAt(j, filled ? GREY : p.colours[j]);
    bones.forEach(([, b], k) => p.boneMesh.setColorAt(k, filled ? GREY : p.colours[b]));
    p.jointMesh.instanceColor.needsUpdate = true;
    p.boneMesh.instanceColor.needsUpdate = true;
  }
}

const timeline = document.getElementById('timeline');
const clock = document.getElementById('clock');
timeline.max = String(frameCount - 1);

function showFrame(f) {
  f = Math.min(frameCount - 1, Math.max(0, f | 0));
  if (f === current) return;
  current = f;
  people.forEach(p => setPerson(p, f));
  timeline.value = String(f);
  clock.textContent = `frame ${f} / ${frameCount - 1}   ${(f / fps).toFixed(3)} s`;
  needsRender = true;
}
const frameAt = t => Math.floor(t * fps + 1e-3);  // the frame presented at media time t

// ---- clock: the video when there is one, else our own ----
const video = meta.video_src ? document.getElementById('video') : null;
const playButton = document.getElementById('play');
const speed = document.getElementById('speed');
let playing = false, ownTime = 0, lastTick = null;

if (video) {
  document.getElementById('video-pane').hidden = false;
  video.src = meta.video_src;
  const sync = () => showFrame(frameAt(video.currentTime));
  video.addEventListener('seeked', sync);
  video.addEventListener('loadeddata', sync);
  video.addEventListener('play', () => { playButton.innerHTML = '&#10074;&#10074;'; });
  video.addEventListener('pause', () => { playButton.innerHTML = '&#9654;'; sync(); });
  video.addEventListener('ended', () => { playButton.innerHTML = '&#9654;'; });
  if ('requestVideoFrameCallback' in video) {
    const onFrame = (now, frameMeta) => { showFrame(frameAt(frameMeta.mediaTime)); video.requestVideoFrameCallback(onFrame); };
    video.requestVideoFrameCallback(onFrame);
  } else {
    video.addEventListener('timeupdate', sync);
  }
}

function togglePlay() {
  if (video) { if (video.paused) video.play(); else video.pause(); return; }
  playing = !playing;
  lastTick = null;
  if (playing && current >= frameCount - 1) ownTime = 0;
  playButton.innerHTML = playing ? '&#10074;&#10074;' : '&#9654;';
}

function seekTime(t) {
  t = Math.min((frameCount - 0.5) / fps, Math.max(0, t));
  if (video) {
    if (video.readyState === 0) return new Promise(r => video.addEventListener('loadedmetadata', () => r(seekTime(t)), { once: true }));
    return new Promise(resolve => {
      video.addEventListener('seeked', () => { showFrame(frameAt(video.currentTime)); resolve(current); }, { once: true });
      video.currentTime = t;
    });
  }
  ownTime = t;
  showFrame(frameAt(t));
  return Promise.resolve(current);
}
const seekFrame = f => seekTime((Math.min(frameCount - 1, Math.max(0, f)) + 0.5) / fps);  // mid-frame

playButton.addEventListener('click', togglePlay);
speed.addEventListener('change', () => { if (video) video.playbackRate = Number(speed.value); });
timeline.addEventListener('input', () => seekFrame(Number(timeline.value)));
window.addEventListener('keydown', e => {
  if (e.target instanceof HTMLSelectElement) return;
  const step = e.shiftKey ? 10 : 1;
  if (e.key === ' ') { togglePlay(); e.preventDefault(); }
  else if (e.key === 'ArrowRight' || e.key === '.') { if (video) video.pause(); playing = false; seekFrame(current + step); e.preventDefault(); }
  else if (e.key === 'ArrowLeft' || e.key === ',') { if (video) video.pause(); playing = false; seekFrame(current - step); e.preventDefault(); }
  else if (e.key === 'Home') seekFrame(0);
  else if (e.key === 'End') seekFrame(frameCount - 1);
});

// ---- layout and rendering ----
function resize() {
  const w = Math.max(1, pane.clientWidth), h = Math.max(1, pane.clientHeight);
  renderer.setSize(w, h, false);
  camera.aspect = w / h;
  camera.updateProjectionMatrix();
  needsRender = true;
}
new ResizeObserver(resize).observe(pane);
controls.addEventListener('change', () => { needsRender = true; });

let renders = 0;
function tick(now) {
  if (!video && playing) {
    if (lastTick !== null) ownTime += (now - lastTick) / 1000 * Number(speed.value);
    lastTick = now;
    if (ownTime * fps >= frameCount) ownTime = 0;  // loop
    showFrame(frameAt(ownTime));
  } else if (video && !video.paused && !('requestVideoFrameCallback' in video)) {
    showFrame(frameAt(video.currentTime));
  }
  if (needsRender) { renderer.render(scene, camera); needsRender = false; renders++; }
  requestAnimationFrame(tick);
}

const legend = document.getElementById('legend');
legend.innerHTML = (meta.multi
  ? people.map(p => `<span style="color:${p.colour}">&#9632; track ${p.track_id}</span>`).join(' ')
  : '<span style="color:#3c8cff">&#9632; left</span> <span style="color:#ff4646">&#9632; right</span>')
  + ' <span style="color:#8a8a8a">&#9632; filled in</span>'
  + `<br>${meta.frame === 'world' ? 'world frame' : 'camera frame (shown upright)'} &middot; ${meta.source}`;

resize();
showFrame(0);
renderer.render(scene, camera);

// ---- hook for tests and scripting ----
function cameraInfo() {
  camera.updateMatrixWorld();
  const rect = renderer.domElement.getBoundingClientRect();
  return { projection: camera.projectionMatrix.toArray(), view: camera.matrixWorldInverse.toArray(),
           left: rect.left, top: rect.top, width: rect.width, height: rect.height };
}
function jointsNow(k = 0) {
  const p = people[k];
  const local = current - (p ? p.first_frame : 0);
  if (!p || local < 0 || local >= p.frames) return null;
  return Array.from({ length: J }, (_, j) => Array.from(p.joints.subarray((local * J + j) * 3, (local * J + j) * 3 + 3)));
}
window.vp3dViewer = {
  meta, THREE_REVISION: THREE.REVISION,
  frameIndex: () => current,
  frameAt,
  seek: seekTime,
  seekFrame,
  videoTime: () => (video ? video.currentTime : null),
  camera: cameraInfo,
  joints: jointsNow,
  projectedJoints(k = 0) {  // CSS pixels relative to the canvas' top-left corner
    const pts = jointsNow(k);
    if (!pts) return null;
    const info = cameraInfo();
    return pts.map(([x, y, z]) => {
      const v = new THREE.Vector3(x, y, z).project(camera);
      return [(v.x + 1) / 2 * info.width, (1 - v.y) / 2 * info.height];
    });
  },
  renderCount: () => renders,
  loadedMs: 0,
  ready: true,
};
window.vp3dViewer.loadedMs = performance.now();  // since navigation start
document.body.dataset.ready = '1';
requestAnimationFrame(tick);
