// The Node half of lazy_provider.py, preloaded into the jsii runtime's Node process (NODE_OPTIONS=--require).
//
// The provider package's main file, lib/index.js, requires all of its ~2,200 resource modules at once (about
// 4 s of every synthesis). The package also ships lib/lazy-index.js, generated beside it by the same tool,
// which exports the same namespaces as getters that require a module the first time it is read. jsii finds
// a class by walking its namespace (`<package>.s3Bucket.S3Bucket`) and jsii 1.19+ compilers put each
// class's type name on the class itself, so nothing else needs the eager file. This points the package's
// resolution at the lazy one; a package without it loads the plain way, with one line on stderr.
// LITTIL_EAGER_PROVIDER=1 turns it off, as it turns off the Python half.
"use strict";

const fs = require("fs");
const Module = require("module");
const path = require("path");

const PACKAGE = "@cdktf/provider-aws";

if (process.env.LITTIL_EAGER_PROVIDER !== "1") {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function resolveLazily(request, ...rest) {
    const found = resolve.call(this, request, ...rest);
    if (request !== PACKAGE) {
      return found;
    }
    const lazy = path.join(path.dirname(found), "lazy-index.js");
    if (path.basename(found) === "index.js" && fs.existsSync(lazy)) {
      return lazy;
    }
    process.stderr.write(`lazy_provider: ${PACKAGE} loaded eagerly: no lazy-index.js beside ${found}\n`);
    return found;
  };
}
