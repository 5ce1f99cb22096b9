// What a page said while it booted and ran, kept for a failure report: the engine's driver
// may give the tests no console (WebKit's). Each line, with its time from navigation start,
// goes into window.pageLog: PyScript's boot stages (the progress events it dispatches on
// window), console.error's and console.warn's lines (Pyodide reports a fatal error on the
// first, and a wasm start that failed, after which loadPyodide never settles, on the
// second), and errors nobody caught. On the demo's pages the loading line also shows the
// boot stage as it goes.
// A classic script, loaded before the page's modules, so nothing is missed; its names are
// kept in a block, out of the page's global scope.
window.pageLog = [];
{
  const keep = (line) => window.pageLog.push(`${Math.round(performance.now())} ${line}`.slice(0, 2000));
  for (const type of ["py:progress", "mpy:progress"]) {
    addEventListener(type, (event) => {
      keep(String(event.detail));
      const loading = document.getElementById("loading");
      if (loading) loading.textContent = `Loading Python… ${event.detail}`;
    });
  }
  for (const level of ["error", "warn"]) {
    const write = console[level].bind(console);
    console[level] = (...args) => {
      keep(`console.${level}: ` + args.map((a) => (a && a.stack ? `${a}\n${a.stack}` : String(a))).join(" "));
      write(...args);
    };
  }
  addEventListener("error", (event) => keep(`error: ${event.message}`));
  addEventListener("unhandledrejection", (event) => keep(`unhandled rejection: ${event.reason}`));
}
