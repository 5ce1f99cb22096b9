// node bench/node.mjs CONFIG_JSON: the benchmark in Node's Pyodide; prints one JSON line.
import { runBench } from "./bench.mjs";

const opts = JSON.parse(process.argv[2]);
const { loadPyodide } = await import(opts.pyodideModule);
const result = await runBench(loadPyodide, opts);
console.log("BENCH_RESULT " + JSON.stringify(result));
process.exit(0);
