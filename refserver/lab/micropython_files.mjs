// Files into a MicroPython's file system under /lib, where PyScript's `packages` puts a
// wheel's contents: the one place the lab, the bench and the in-browser tests (Chromium
// and Node) install the wheel into MicroPython. `files` maps a relative path to its text.
export function writeFiles(mp, files) {
  for (const [path, text] of Object.entries(files)) {
    const full = "/lib/" + path;
    mp.FS.mkdirTree(full.slice(0, full.lastIndexOf("/")));
    mp.FS.writeFile(full, text);
  }
}
