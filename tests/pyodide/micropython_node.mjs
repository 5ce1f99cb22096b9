// One MicroPython for one test module, in Node: the in-browser tests' "node" runtime
// when the interpreter is MicroPython (pytest-pyodide's Node driver runs only Pyodide).
// Reads one JSON job per line on stdin, answers one JSON line on stdout:
//   {"files": {path: text}}  -> writes them under /lib (see refserver/lab/micropython_files.mjs)
//   {"code": "..."}          -> runs it (top-level await allowed); answers globalThis._lucia_out
// MicroPython's own output goes to stderr, so that stdout carries only the answers.
import readline from "node:readline";

import { writeFiles } from "../../refserver/lab/micropython_files.mjs";

const { loadMicroPython } = await import(process.argv[2]);
const mp = await loadMicroPython({
  stdout: (line) => process.stderr.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});

async function handle(job) {
  if (job.files) {
    writeFiles(mp, job.files);
    return { done: true };
  }
  globalThis._lucia_out = undefined;
  await mp.runPythonAsync(job.code);
  return { out: globalThis._lucia_out };
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
for await (const line of lines) {
  let answer;
  try {
    answer = await handle(JSON.parse(line));
  } catch (error) {
    answer = { crash: String(error && error.stack ? error.stack : error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
