// The Try-it page's worker: runs a transform network (ONNX) with onnxruntime-web, off the
// page's thread. A message {model, width, height, pixels, runtime} (pixels: Float32Array,
// RGB planes of 0 to 255, sides multiples of 4) gets {pixels, seconds, backend, threads} back,
// {progress} on the way, or {error}.
'use strict';

let backend = null;
const sessions = {};

async function start(runtime) {
  // WebGPU where the browser has an adapter, WebAssembly otherwise
  let webgpu = false;
  if (self.navigator && navigator.gpu) {
    try { webgpu = !!(await navigator.gpu.requestAdapter()); } catch (e) { webgpu = false; }
  }
  importScripts(runtime + (webgpu ? 'ort.webgpu.min.js' : 'ort.wasm.min.js'));
  ort.env.wasm.wasmPaths = runtime;
  // threads need cross-origin isolation (COOP and COEP headers), which most hosts do not set
  ort.env.wasm.numThreads = self.crossOriginIsolated
    ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  backend = webgpu ? 'webgpu' : 'wasm';
}

async function session(model) {
  if (!sessions[model]) {
    try {
      sessions[model] = await ort.InferenceSession.create(model, {executionProviders: [backend]});
    } catch (err) {
      if (backend !== 'webgpu') throw err;
      backend = 'wasm';  // an adapter, but WebGPU failed: the same build runs WebAssembly too
      sessions[model] = await ort.InferenceSession.create(model, {executionProviders: [backend]});
    }
  }
  return sessions[model];
}

self.onmessage = async (event) => {
  const {model, width, height, pixels, runtime} = event.data;
  try {
    if (!backend) {
      postMessage({progress: 'Loading the runtime...'});
      await start(runtime);
    }
    postMessage({progress: 'Loading the network...'});
    const net = await session(model);
    postMessage({progress: `Painting ${width}\u00d7${height}...`});
    const start_ = performance.now();
    const out = await net.run({image: new ort.Tensor('float32', pixels, [1, 3, height, width])});
    const data = await out.stylized.getData();
    const seconds = (performance.now() - start_) / 1000;
    postMessage({pixels: data, seconds, backend,
                 threads: backend === 'wasm' ? ort.env.wasm.numThreads : null}, [data.buffer]);
  } catch (err) {
    postMessage({error: String((err && err.message) || err)});
  }
};
