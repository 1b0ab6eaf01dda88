#!/usr/bin/env python3
"""static_dir.py WEB_SHELL_DIR DEST HTMX_JS: upstream's static layout for OA_CONTROL_STATIC_DIR.

The layout web-shell/build-dist.sh (6b173e913a) writes, minus the wasm build (wasm-pack is not
available offline): index.html, manifest.json (openagents.webshell.v2, same keys), sw.js
rendered from host/sw-template.js, assets/host-shim.js, capability-policy.js, update-policy.js
(copied from upstream's host/ when the checkout has them), a placeholder
assets/openagents_web_shell.js and _bg.wasm, and the htmx library from the npm package htmx.org
under upstream's pinned name assets/htmx-2_0_8-22283ef6.js (the name web_maud.rs links).
"""
import json
import pathlib
import shutil
import sys
import time

shell, dest, htmx = (pathlib.Path(a) for a in sys.argv[1:4])
assets = dest / "assets"
assets.mkdir(parents=True, exist_ok=True)
build_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
pinned = ["/index.html", "/assets/openagents_web_shell.js", "/assets/openagents_web_shell_bg.wasm",
          "/assets/host-shim.js", "/assets/capability-policy.js", "/assets/update-policy.js",
          "/assets/htmx-2_0_8-22283ef6.js"]
host = shell / "host"


def template(name, **repl):
    p = host / name
    if not p.is_file():
        return None
    text = p.read_text(encoding="utf-8")
    for k, v in repl.items():
        text = text.replace(k, v)
    return text


(assets / "host-shim.js").write_text(
    template("host-shim.js", __OA_BUILD_ID__=build_id) or "// interop placeholder host shim\n", encoding="utf-8")
for name in ("capability-policy.js", "update-policy.js"):
    (assets / name).write_text(template(name) or f"// interop placeholder {name}\n", encoding="utf-8")
(assets / "openagents_web_shell.js").write_text(
    "// interop harness: placeholder for the wasm web shell entry (wasm-pack build not run)\n", encoding="utf-8")
(assets / "openagents_web_shell_bg.wasm").write_bytes(b"\0asm\1\0\0\0")
shutil.copyfile(htmx, assets / "htmx-2_0_8-22283ef6.js")
sw = template("sw-template.js", __OA_BUILD_ID__=build_id, __OA_PINNED_ASSETS__=json.dumps(pinned),
              __OA_ROLLBACK_CACHE_NAMES__="[]")
(dest / "sw.js").write_text(sw or "self.addEventListener('fetch', () => {});\n", encoding="utf-8")
(dest / "index.html").write_text(
    "<!doctype html>\n<html lang=\"en\">\n  <head><meta charset=\"utf-8\" /><title>OpenAgents</title></head>\n"
    "  <body>\n    <div id=\"openagents-web-shell-status\"></div>\n    <canvas id=\"openagents-web-shell-canvas\"></canvas>\n"
    "    <script type=\"module\" src=\"./assets/host-shim.js\"></script>\n  </body>\n</html>\n", encoding="utf-8")
manifest = {
    "manifestVersion": "openagents.webshell.v2",
    "buildId": build_id,
    "entry": {"html": "index.html", "js": "assets/openagents_web_shell.js",
              "wasm": "assets/openagents_web_shell_bg.wasm", "hostShim": "assets/host-shim.js"},
    "compatibility": {"protocolVersion": "khala.ws.v1", "minClientBuildId": build_id, "maxClientBuildId": None,
                      "syncSchemaMin": 1, "syncSchemaMax": 1},
    "serviceWorker": {"script": "sw.js", "cacheName": f"openagents-web-shell::{build_id}",
                      "pinnedAssets": pinned, "rollbackCaches": []},
}
(dest / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
