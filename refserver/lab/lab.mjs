// The lab page's module: boot the page's interpreter from this server (Pyodide, or
// MicroPython with ?interpreter=micropython), install the wheel, and let tests run
// Python with `labRun(code)`. Pyodide gives back the code's last expression; for
// MicroPython the test driver (tests/e2e/lab.py) rewrites that expression to leave
// its JSON in globalThis._lab_out. Served under `script-src 'self' 'wasm-unsafe-eval'`:
// nothing here is evaluated from a string, and neither may the client be.

async function pyodideLab() {
  const { loadPyodide } = await import("/pyscript/pyodide/pyodide.mjs");
  const pyodide = await loadPyodide({ indexURL: "/pyscript/pyodide/" });
  await pyodide.loadPackage(new URL(document.body.dataset.wheel, location.href).href);
  return async (code) => {
    const result = await pyodide.runPythonAsync(code);
    return result && result.toJs ? result.toJs({ dict_converter: Object.fromEntries }) : result;
  };
}

async function microPythonLab() {
  const { loadMicroPython } = await import("/pyscript/micropython/micropython.mjs");
  const { writeFiles } = await import("/__test__/micropython_files.mjs");
  const mp = await loadMicroPython();
  writeFiles(mp, await (await fetch("/__test__/wheel-files")).json());
  return async (code) => {
    globalThis._lab_out = undefined;
    await mp.runPythonAsync(code);
    return globalThis._lab_out === undefined ? null : JSON.parse(globalThis._lab_out);
  };
}

window.labLogged = [];  // the client's log lines (tests/e2e/lab.py PRELUDE)
try {
  const micro = document.body.dataset.interpreter === "micropython";
  window.labRun = await (micro ? microPythonLab() : pyodideLab());
  document.body.dataset.ready = "true";
} catch (error) {
  document.body.dataset.failed = String(error);
}
