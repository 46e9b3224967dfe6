/** Thrown when the reader of stdout went away (`evlog tail | head`); the CLI exits quietly. */
export class OutputClosedError extends Error {
  constructor() {
    super('output closed');
  }
}
