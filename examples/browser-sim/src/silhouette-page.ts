/**
 * The page side of the silhouette test (silhouette.test.ts): draws a scene description with the 3D
 * view's builder in three.js, from MuJoCo's free camera, once in colour and once as a mask (the
 * robot's geoms white, everything else black, depth kept, so what hides the robot hides its mask).
 * Bundled by the test with esbuild; runs in Chromium (software WebGL).
 */
import type { SimScene } from '@telekit/core/schemas';
import {
  buildMujocoScene,
  type MujocoBodyPose,
  mujocoFreeCamera,
  sceneFromMessage,
} from '@telekit/ui-widgets/mujoco-scene';
import * as THREE from 'three';

/** What the test asks the page to draw. */
export interface DrawRequest {
  description: Omit<SimScene, 'header'>;
  poses: MujocoBodyPose[];
  robotGeoms: number[];
  width: number;
  height: number;
  camera: { lookat: number[]; distance: number; azimuth: number; elevation: number };
}

/** RGBA bytes, top row first, base64. */
export interface DrawResult {
  rgba: string;
  mask: string;
}

function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function draw(request: DrawRequest): DrawResult {
  const { width, height } = request;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: false, preserveDrawingBuffer: true });
  renderer.setPixelRatio(1);
  renderer.setSize(width, height, false);
  const built = buildMujocoScene(sceneFromMessage(request.description));
  built.setBodies(request.poses);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x000000);
  scene.add(built.root);

  const fovy = request.description.view?.fovy ?? 45;
  const camera = new THREE.PerspectiveCamera(fovy, width / height, 0.01, 100);
  const pose = mujocoFreeCamera(request.camera);
  camera.up.set(...pose.up);
  camera.position.set(...pose.position);
  camera.lookAt(new THREE.Vector3(...(request.camera.lookat as [number, number, number])));
  camera.updateProjectionMatrix();
  // MuJoCo's headlight: from the camera, where it looks.
  if (built.headlight) {
    built.headlight.position.copy(camera.position);
    built.headlight.target.position.set(...(request.camera.lookat as [number, number, number]));
    scene.add(built.headlight, built.headlight.target);
  }

  const read = () => {
    const gl = renderer.getContext();
    const pixels = new Uint8Array(4 * width * height);
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    // WebGL's rows start at the bottom.
    const flipped = new Uint8Array(pixels.length);
    for (let y = 0; y < height; y++)
      flipped.set(pixels.subarray(4 * width * (height - 1 - y), 4 * width * (height - y)), 4 * width * y);
    return flipped;
  };
  renderer.render(scene, camera);
  const rgba = read();

  // The mask: flat white for the robot's geoms, black for the rest (they still hide what is behind).
  const robot = new Set(request.robotGeoms);
  const white = new THREE.MeshBasicMaterial({ color: 0xffffff });
  const black = new THREE.MeshBasicMaterial({ color: 0x000000 });
  built.root.traverse((o) => {
    if ((o as THREE.Line).isLine) o.visible = false;
  });
  for (const mesh of built.geoms) {
    if (!mesh) continue;
    mesh.material = robot.has(mesh.userData.geom as number) ? white : black;
  }
  renderer.render(scene, camera);
  const mask = read();
  built.dispose();
  renderer.dispose();
  return { rgba: base64(rgba), mask: base64(mask) };
}

(globalThis as unknown as { drawScene: typeof draw }).drawScene = draw;
