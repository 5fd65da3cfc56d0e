#!/usr/bin/env node
// Runs an ONNX file with ONNX Runtime (npm's onnxruntime-node, installed into tools/node_modules
// by tools/install-deps.sh) on a data set, and prints one JSON line:
//   {"images": N, "top1": percent, "max_abs_diff": largest |logit - reference|, ...}
//
//   node tools/ort_run.js MODEL.onnx --data X.npy [--labels Y.npy] [--reference LOGITS.npy]
//        [--batch B] [--logits OUT.npy] [--bench RUNS] [--threads T]
//        [--optimize disabled|basic|extended|all] [--qdq-fusions on|off]
//
// X.npy: float32 N x C x H x W, the model's input as PTQ Studio's executor reads it (normalized);
// Y.npy: int64 or int32 labels; LOGITS.npy: float32 N x K, what the logits are compared with.
// --qdq-fusions off: ONNX Runtime's QDQ transformers off (session.disable_quant_qdq), so a QDQ
// file runs as written: float kernels on the dequantized values, as PTQ Studio's fake-quantized
// run. On (the default) ONNX Runtime fuses DequantizeLinear -> Conv -> (Relu ->) QuantizeLinear
// into integer kernels and rounds float biases to int32 at input scale x weight scale.
// --bench RUNS: after the pass, times RUNS runs of one batch and adds their median and minimum (ms).
'use strict';
const fs = require('fs');
const path = require('path');

function fail(message) {
  process.stderr.write(`ort_run: ${message}\n`);
  process.exit(2);
}

function loadOrt() {
  const where = [process.env.PTQ_ORT_NODE_MODULES, path.join(__dirname, 'node_modules')].filter(Boolean);
  for (const dir of where) {
    try {
      return require(path.join(dir, 'onnxruntime-node'));
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  fail(`onnxruntime-node is not installed in ${where.join(' or ')}: run tools/install-deps.sh`);
}

// A .npy file (version 1 or 2, little-endian, C order) as {dtype, shape, data}.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${file} is not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape || /'fortran_order':\s*True/.test(header)) fail(`${file}: unsupported .npy header ${header.trim()}`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = buf.subarray(start);
  const copy = (Ctor, size) => {
    if (bytes.length < count * size) fail(`${file} is shorter than its shape says`);
    const ab = new ArrayBuffer(count * size);
    new Uint8Array(ab).set(bytes.subarray(0, count * size));
    return new Ctor(ab);
  };
  switch (descr[1]) {
    case '<f4': return { dtype: 'float32', shape: dims, data: copy(Float32Array, 4) };
    case '<i8': return { dtype: 'int64', shape: dims, data: Array.from(copy(BigInt64Array, 8), Number) };
    case '<i4': return { dtype: 'int32', shape: dims, data: Array.from(copy(Int32Array, 4)) };
    default: fail(`${file}: dtype ${descr[1]} is not float32, int64 or int32`);
  }
}

function writeNpy(file, data, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function parseArgs(argv) {
  const args = { batch: 100, bench: 0, threads: 0 };
  if (argv.length < 1 || argv[0].startsWith('--')) fail('usage: ort_run.js MODEL.onnx --data X.npy [--labels Y.npy] [--reference R.npy] [--batch B] [--logits OUT.npy] [--bench RUNS] [--threads T] [--optimize LEVEL] [--qdq-fusions on|off]');
  args.model = argv[0];
  for (let i = 1; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (i + 1 >= argv.length) fail(`--${key} needs a value`);
    args[key] = ['batch', 'bench', 'threads'].includes(key) ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!args.data) fail('give --data X.npy');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const options = { graphOptimizationLevel: args.optimize || 'all' };
  if (args.threads > 0) options.intraOpNumThreads = args.threads;
  if (args['qdq-fusions'] === 'off') options.extra = { session: { disable_quant_qdq: '1' } };
  else if (args['qdq-fusions'] && args['qdq-fusions'] !== 'on') fail('--qdq-fusions is on or off');
  let session;
  try {
    session = await ort.InferenceSession.create(args.model, options);
  } catch (e) {
    fail(`ONNX Runtime could not load ${args.model}: ${String(e.message || e).split('\n')[0]}`);
  }
  const x = readNpy(args.data);
  if (x.dtype !== 'float32' || x.shape.length < 2) fail(`${args.data} must hold float32 samples, N first`);
  const n = x.shape[0];
  const sample = x.data.length / n;
  const labels = args.labels ? readNpy(args.labels).data : null;
  const reference = args.reference ? readNpy(args.reference) : null;
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  let correct = 0, maxDiff = 0, classes = 0;
  const logitsOut = [];
  const t0 = process.hrtime.bigint();
  for (let from = 0; from < n; from += args.batch) {
    const count = Math.min(args.batch, n - from);
    const input = new ort.Tensor('float32', x.data.subarray(from * sample, (from + count) * sample), [count, ...x.shape.slice(1)]);
    const result = await session.run({ [inputName]: input });
    const y = result[outputName].data;
    classes = y.length / count;
    if (args.logits) logitsOut.push(Float32Array.from(y));
    for (let i = 0; i < count; ++i) {
      let best = 0;
      for (let k = 1; k < classes; ++k) if (y[i * classes + k] > y[i * classes + best]) best = k;
      if (labels && best === labels[from + i]) ++correct;
      if (reference) {
        for (let k = 0; k < classes; ++k) {
          const d = Math.abs(y[i * classes + k] - reference.data[(from + i) * classes + k]);
          if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
        }
      }
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = { model: args.model, images: n, classes, seconds: Number(seconds.toFixed(3)) };
  if (labels) out.top1 = Number(((100 * correct) / n).toFixed(4));
  if (labels) out.correct = correct;
  if (reference) out.max_abs_diff = maxDiff;
  if (args.logits) {
    const all = new Float32Array(n * classes);
    let at = 0;
    for (const part of logitsOut) { all.set(part, at); at += part.length; }
    writeNpy(args.logits, all, [n, classes]);
  }
  if (args.bench > 0) {
    const count = Math.min(args.batch, n);
    const input = new ort.Tensor('float32', x.data.subarray(0, count * sample), [count, ...x.shape.slice(1)]);
    for (let i = 0; i < 3; ++i) await session.run({ [inputName]: input });  // warm-up
    const times = [];
    for (let i = 0; i < args.bench; ++i) {
      const s = process.hrtime.bigint();
      await session.run({ [inputName]: input });
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    times.sort((a, b) => a - b);
    out.bench_batch = count;
    out.bench_median_ms = Number(times[Math.floor(times.length / 2)].toFixed(3));
    out.bench_min_ms = Number(times[0].toFixed(3));
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => fail(String(e.message || e).split('\n')[0]));
