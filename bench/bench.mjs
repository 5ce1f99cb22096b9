// Boots Pyodide, installs the wheel, then runs inside.py: shared by Node (node.mjs) and
// Chromium (bench.html). Times are performance.now() milliseconds.
export async function runBench(loadPyodide, opts) {
  const boots = [], installs = [], imports = [], empties = [];
  let pyodide;
  for (let i = 0; i < opts.boots; i++) {
    let t = performance.now();
    pyodide = await loadPyodide({ indexURL: opts.indexURL });
    boots.push(performance.now() - t);
    // First a wheel with nothing in it: Pyodide's own cost, including the one-time
    // start of its package loader, which would otherwise be charged to our wheel.
    t = performance.now();
    await pyodide.loadPackage(opts.emptyWheelURL);
    pyodide.runPython("import bench_empty");
    empties.push(performance.now() - t);
    t = performance.now();
    await pyodide.loadPackage(opts.wheelURL);
    const installed = performance.now();
    pyodide.runPython("import lucia_pyodide");
    imports.push(performance.now() - installed);
    installs.push(performance.now() - t);
  }
  const installed = pyodide.runPython(`
import importlib.metadata as m, os
sum(os.path.getsize(f.locate()) for f in m.files("lucia_pyodide") if os.path.isfile(f.locate()))
`);
  pyodide.globals.set("BENCH_CONFIG", pyodide.toPy(opts.config));
  const inside = await (await fetch(opts.insideURL)).text();
  const result = JSON.parse(await pyodide.runPythonAsync(inside));
  return { boot_ms: boots, install_import_ms: installs, import_ms: imports,
           empty_install_import_ms: empties,
           installed_bytes: installed, ...result };
}
