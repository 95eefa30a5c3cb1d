import { nearestNeighbours } from "../src/augment/transformer/index.ts";
import { Rng } from "../src/core/rng.ts";
const r = new Rng(1);
const n = 3000, dim = 32;
const v = Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => r.normal()));
let t = performance.now();
nearestNeighbours(v, 10);
console.log("nn", n, (performance.now() - t).toFixed(0), "ms");
