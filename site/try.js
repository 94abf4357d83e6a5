// The Try-it page (builder/tryit.py): a photograph, a painting and a size in; the painted
// photograph out, with a strength slider and a download. The network runs in try-worker.js.
'use strict';
(() => {
  const root = document.querySelector('.d2l-try');
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const status = $('d2l-status'), paint = $('d2l-paint'), size = $('d2l-size');
  const strength = $('d2l-strength'), download = $('d2l-download');
  const photoCanvas = $('d2l-photo'), paintedCanvas = $('d2l-painted');
  const settings = JSON.parse($('d2l-try-settings').textContent);
  // files over MAX_BYTES are refused before decoding, images over MAX_PIXELS after it
  const MAX_BYTES = 50e6, MAX_PIXELS = 50e6;
  let bitmap = null, photoName = 'photo', photo = null, busy = false, worker = null;
  let painted = null, paintedName = '';  // the last result, and the file name to download it as
  let current = 0;  // the run whose result the page waits for; a new photo or size ends it

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle('d2l-error', !!isError);
  }

  if (location.protocol === 'file:') {
    say('Open this page over HTTP (python -m http.server in the site\'s folder): opened as a ' +
        'file, the browser refuses to load the networks.', true);
  }

  async function choose(blob, name) {
    // one line for a file that is not an image or is too large, and the page goes on
    if (blob.size > MAX_BYTES) {
      return say(`${name} is ${(blob.size / 1e6).toFixed(0)} MB: too large to decode here; ` +
                 'choose a photograph under 50 MB.', true);
    }
    let decoded;
    try {
      decoded = await createImageBitmap(blob, {colorSpaceConversion: 'none',
                                                premultiplyAlpha: 'none'});
    } catch (err) {
      return say(`${name} is not an image this browser can read: choose a JPEG, PNG or ` +
                 'WebP photograph.', true);
    }
    if (decoded.width * decoded.height > MAX_PIXELS) {
      decoded.close();
      return say(`${name} has ${decoded.width}\u00d7${decoded.height} pixels: too large; ` +
                 'choose a photograph of at most 50 megapixels.', true);
    }
    if (bitmap) bitmap.close();
    bitmap = decoded;
    photoName = name.replace(/\.[^.]*$/, '');
    restart();
    if (fits()) say(`${name}: ${bitmap.width}\u00d7${bitmap.height}. Choose a painting and paint.`);
  }

  function restart() {
    // a new photograph or size: the run under way, if any, no longer counts
    current++;
    painted = null;
    draw();
    paint.disabled = busy || !fits();
  }

  function fits() {
    // the network needs room on each side (as d2lstyle's commands do)
    const [w, h] = shape();
    if (Math.min(w, h) >= settings.min_side) return true;
    say(`At ${w}\u00d7${h} pixels the photograph is too narrow: each side needs at least ` +
        `${settings.min_side} pixels; choose a larger size or another photograph.`, true);
    return false;
  }

  function shape() {
    // the long side at most the chosen size, never enlarged
    const side = Math.min(Number(size.value), Math.max(bitmap.width, bitmap.height));
    const scale = side / Math.max(bitmap.width, bitmap.height);
    return [Math.max(1, Math.round(bitmap.width * scale)),
            Math.max(1, Math.round(bitmap.height * scale))];
  }

  function draw() {
    const [w, h] = shape();
    for (const c of [photoCanvas, paintedCanvas]) { c.width = w; c.height = h; }
    const ctx = photoCanvas.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, w, h);
    photo = ctx.getImageData(0, 0, w, h);
    paintedCanvas.getContext('2d').clearRect(0, 0, w, h);
    download.hidden = true;
  }

  function planes(image) {
    // RGB planes of 0 to 255, padded by reflection to multiples of 4 (chapter 6's stylize_photo)
    const {width: w, height: h, data} = image;
    const W = w + (4 - w % 4) % 4, H = h + (4 - h % 4) % 4;
    const reflect = (i, n) => (i < n ? i : 2 * n - 2 - i);
    const out = new Float32Array(3 * W * H);
    for (let y = 0; y < H; y++) {
      const sy = reflect(y, h);
      for (let x = 0; x < W; x++) {
        const s = 4 * (sy * w + reflect(x, w)), t = y * W + x;
        out[t] = data[s]; out[W * H + t] = data[s + 1]; out[2 * W * H + t] = data[s + 2];
      }
    }
    return {pixels: out, width: W, height: H};
  }

  function show() {
    // the painted picture over the photograph, by the strength: no new pass
    if (!painted) return;
    const name = paintedName;
    const a = Number(strength.value) / 100, blend = new ImageData(photo.width, photo.height);
    for (let i = 0; i < blend.data.length; i += 4) {
      for (let c = 0; c < 3; c++) {
        blend.data[i + c] = Math.round((1 - a) * photo.data[i + c] + a * painted.data[i + c]);
      }
      blend.data[i + 3] = 255;
    }
    paintedCanvas.getContext('2d').putImageData(blend, 0, 0);
    paintedCanvas.toBlob((blob) => {
      if (download.href) URL.revokeObjectURL(download.href);
      download.href = URL.createObjectURL(blob);
      download.download = name;
      download.hidden = false;
    }, 'image/png');
  }

  function painting() {
    return document.querySelector('input[name="painting"]:checked').value;
  }

  function run() {
    if (!bitmap || busy || !fits()) return;
    draw();
    const id = ++current, source = photo, input = planes(photo), name = painting();
    painted = null;
    busy = true;
    paint.disabled = true;
    worker = worker || start();
    worker.onmessage = (event) => {
      const m = event.data;
      if (m.progress) {
        if (id === current) say(m.progress);
        return;
      }
      busy = false;
      paint.disabled = !fits();
      if (m.error) {
        stop();  // a fresh runtime for the next run
        if (id === current) {
          say(`The network could not run (${m.error}); try a smaller size, or reload the ` +
              'page, or another browser.', true);
        }
        return;
      }
      if (id !== current) return;  // the photograph or the size changed meanwhile
      painted = unplanes(m.pixels, input, source.width, source.height);
      paintedName = `${photoName}-${name}.png`;
      show();
      const how = m.backend === 'webgpu' ? 'WebGPU'
        : `WebAssembly, ${m.threads} thread${m.threads > 1 ? 's' : ''}`;
      root.dataset.seconds = m.seconds;
      say(`Painted ${source.width}\u00d7${source.height} in ${m.seconds.toFixed(2)} s (${how}).`);
    };
    const base = new URL(root.dataset.models, location.href).href;
    worker.postMessage({model: `${base}${name}.onnx`, width: input.width, height: input.height,
                        pixels: input.pixels,
                        runtime: new URL(root.dataset.runtime, location.href).href},
                       [input.pixels.buffer]);
  }

  function unplanes(pixels, input, w, h) {
    // the network's RGB planes, cropped to the photograph and rounded, as an image
    const image = new ImageData(w, h), n = input.width * input.height;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = y * input.width + x, t = 4 * (y * w + x);
        for (let c = 0; c < 3; c++) image.data[t + c] = Math.round(pixels[c * n + s]);
        image.data[t + 3] = 255;
      }
    }
    return image;
  }

  function start() {
    const w = new Worker('_static/try-worker.js');
    w.onerror = (event) => {  // the worker could not load or crashed: say so, start afresh
      event.preventDefault();
      stop();
      busy = false;
      paint.disabled = !bitmap || !fits();
      say(`The painter could not start (${event.message || 'its script did not load'}); ` +
          'reload the page to try again.', true);
    };
    return w;
  }

  function stop() {
    if (worker) worker.terminate();
    worker = null;
  }

  $('d2l-file').addEventListener('change', (e) => {
    if (e.target.files[0]) choose(e.target.files[0], e.target.files[0].name);
  });
  const drop = root.querySelector('.d2l-drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('d2l-over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('d2l-over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('d2l-over');
    const file = e.dataTransfer.files[0];
    if (file) choose(file, file.name);
  });
  for (const button of root.querySelectorAll('.d2l-photo')) {
    button.addEventListener('click', async () => {
      try {
        const response = await fetch(button.dataset.src);
        if (!response.ok) throw new Error(response.statusText);
        choose(await response.blob(), button.dataset.src.split('/').pop());
      } catch (err) {
        say(`Could not load ${button.dataset.src}: open the page over HTTP.`, true);
      }
    });
  }
  paint.addEventListener('click', run);
  size.addEventListener('change', () => {
    if (bitmap) {
      const again = painted ? ' again' : '';
      restart();
      if (fits()) say(`Paint${again} at the new size.`);
    }
  });
  for (const choice of root.querySelectorAll('input[name="painting"]')) {
    choice.addEventListener('change', () => {
      if (painted || busy) say('Paint again to use this painting.');
    });
  }
  strength.addEventListener('input', show);
})();
