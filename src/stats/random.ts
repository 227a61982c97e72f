/**
 * Re-export of the one seeded generator (core/random.ts), kept only so that src/profiles/ (being
 * refactored in parallel) keeps compiling; new code imports ../core/random.js. Delete it (and
 * its line in index.ts) once nothing imports this file.
 */
export { mulberry32, Rng, type RandomSource } from '../core/random.js';
