// Before the suite: one registry of test servers per jest run (its PID), so that two runs at
// once (two checkouts on one machine) never stop each other's servers. Workers inherit it.
export default function globalSetup() {
  process.env.SLIPWAY_TEST_RUN ??= String(process.pid);
}
