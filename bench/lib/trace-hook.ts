// Loaded with `node --import` into a Levqor process (scripts/bench.mjs bundles it): traces its
// queries into the file named by LEVQOR_BENCH_TRACE (see installQueryTrace).
import process from 'node:process';
import { installQueryTrace } from './trace.js';

const file = process.env.LEVQOR_BENCH_TRACE;
if (file) installQueryTrace(file);
