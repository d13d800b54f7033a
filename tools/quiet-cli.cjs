// Preloaded into every Node process that `npx cdktf ...` starts (.npmrc `node-options`), so the
// CDKTF CLI run by hand is as quiet as through make: no checkpoint/telemetry call (it fails
// loudly offline) and no jsii banner about Node's end of life in the app it synthesizes.
// Values set by the caller win.
"use strict";
const nodeMajor = process.versions.node.split(".")[0];
process.env.CHECKPOINT_DISABLE ??= "1";
process.env.JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ??= nodeMajor;
process.env.JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION ??= "1";
