// The lab page's module: boot Pyodide from this server, install the wheel, and let
// tests run Python with `labRun(code)` (the code's last expression is the result).
// Served under `script-src 'self' 'wasm-unsafe-eval'`: nothing here is evaluated from
// a string, and neither may the client be.
import { loadPyodide } from "/pyscript/pyodide/pyodide.mjs";

try {
  const pyodide = await loadPyodide({ indexURL: "/pyscript/pyodide/" });
  await pyodide.loadPackage(new URL(document.body.dataset.wheel, location.href).href);
  window.labRun = async (code) => {
    const result = await pyodide.runPythonAsync(code);
    return result && result.toJs ? result.toJs({ dict_converter: Object.fromEntries }) : result;
  };
  document.body.dataset.ready = "true";
} catch (error) {
  document.body.dataset.failed = String(error);
}
