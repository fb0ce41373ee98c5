// V8's full collection, for tests that show what the code no longer holds (a WeakRef's target is
// gone once nothing strong reaches it). `--expose-gc` set at run time reaches contexts made after it.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}
