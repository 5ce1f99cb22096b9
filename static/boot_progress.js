// The demo's loading line shows where PyScript's boot is ("Loading Storage", "Loading
// interpreter", a package...), from the progress events PyScript dispatches on window.
// Each stage is also kept, with its time from navigation start, in window.bootStages:
// a page that never boots says where it stopped (the e2e tests print it on a timeout).
// Errors nobody caught are kept there too: WebKit's driver gives the tests no console.
// A classic script: it runs before PyScript's module, so no stage is missed.
window.bootStages = [];
for (const type of ["py:progress", "mpy:progress"]) {
  addEventListener(type, (event) => {
    const stage = String(event.detail);
    window.bootStages.push(`${Math.round(performance.now())} ${stage}`);
    const loading = document.getElementById("loading");
    if (loading) loading.textContent = `Loading Python… ${stage}`;
  });
}
addEventListener("error", (event) => {
  window.bootStages.push(`${Math.round(performance.now())} error: ${event.message}`);
});
addEventListener("unhandledrejection", (event) => {
  window.bootStages.push(`${Math.round(performance.now())} unhandled rejection: ${event.reason}`);
});
