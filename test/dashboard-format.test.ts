import { describe, expect, it } from 'vitest';
import { duration, percent } from '../src/http/client/format.js';

// The dashboard's number formatting (browser code, pure, so it runs here too).
describe('dashboard formatting', () => {
  it.each([
    [-5, '0 s'],
    [0, '0 s'],
    [59.4, '59 s'],
    [59.6, '1 min 0 s'],
    [61, '1 min 1 s'],
    [3599, '59 min 59 s'],
    [3600, '1 h 0 min'],
    [47 * 3600 + 59 * 60, '47 h 59 min'],
    [48 * 3600, '2 d 0 h'],
    [5 * 86_400 + 7 * 3600 + 1, '5 d 7 h'],
  ])('duration(%s) is %s', (seconds, text) => {
    expect(duration(seconds)).toBe(text);
  });

  it.each([
    [null, 'no runs'],
    [0, '0.0 %'],
    [0.05, '5.0 %'],
    [0.0749, '7.5 %'],
    [1, '100.0 %'],
  ])('percent(%s) is %s', (rate, text) => {
    expect(percent(rate)).toBe(text);
  });
});
