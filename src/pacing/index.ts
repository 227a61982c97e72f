export * from './rate-profile.js';
export * from './arrivals.js';
