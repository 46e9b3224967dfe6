/**
 * Ink lays out with Yoga, a WebAssembly module that its Emscripten loader reads from a data:
 * URL. Where a global fetch exists the loader goes through it, and the first touch of Node's
 * fetch loads its whole HTTP client (undici): some 25 ms of the inspector's start, for
 * nothing. This module is imported just before Ink and hides fetch while Yoga loads;
 * restoreFetch() puts it back once Ink has loaded.
 */
const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
const hidden = descriptor?.configurable === true;
if (hidden) Object.defineProperty(globalThis, 'fetch', { value: undefined, configurable: true, writable: true });

export function restoreFetch(): void {
  if (hidden && descriptor) Object.defineProperty(globalThis, 'fetch', descriptor);
}
