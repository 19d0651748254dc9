import { createRequire } from 'module'; const require = createRequire(import.meta.url);
import{a}from"./chunk-XYI5IUKA.js";import"./chunk-5CEANC5U.js";import"./chunk-KKM7PONK.js";export{a as createPgDb};
