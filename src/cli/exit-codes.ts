/** Exit codes of the `sluice` command. */
export const EXIT = {
  ok: 0,
  /** The run (or another operation) started and failed. */
  failed: 1,
  /** Invalid topology, configuration or command-line usage: nothing ran. */
  usage: 2,
} as const;
