// The client's own cost in MicroPython, in Chromium: a fresh MicroPython each round
// (its boot is the baseline), the wheel's files written as PyScript's unzip would,
// then `import lucia_pyodide` and the first get_user() (the reference server renders
// the signed-in user into this page). Options come in the URL's hash as JSON.
const opts = JSON.parse(decodeURIComponent(location.hash.slice(1)));
try {
  const { loadMicroPython } = await import("/pyscript/micropython/micropython.mjs");
  const { writeFiles } = await import("/__test__/micropython_files.mjs");
  const files = await (await fetch("/__test__/wheel-files")).json();
  const boots = [], imports = [], firstReads = [];
  let user = null;
  for (let i = 0; i < opts.boots; i++) {
    let t = performance.now();
    const mp = await loadMicroPython();
    boots.push(performance.now() - t);
    writeFiles(mp, files);
    t = performance.now();
    mp.runPython("import lucia_pyodide");
    imports.push(performance.now() - t);
    t = performance.now();
    mp.runPython("import js\njs.globalThis._bench_user = lucia_pyodide.get_user().user_id");
    firstReads.push(performance.now() - t);
    user = globalThis._bench_user;
  }
  window.benchResult = { boot_ms: boots, import_ms: imports, get_user_first_ms: firstReads, user };
} catch (error) {
  window.benchError = String(error && error.stack ? error.stack : error);
}
