// A bare node:http server in a child process that reads the body and answers 202: the floor of
// what the load generator can measure on this machine right now. Latency above the floor is the
// bot's; the floor itself is the machine (shared cores, the generator's own event loop).
import { spawn } from "node:child_process";
import { freePort, waitForHttp } from "../dev/processes.js";

const SERVER = `
const { createServer } = require("node:http");
createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(202, { "content-type": "application/json" });
    res.end('{"status":"queued"}');
  });
}).listen(Number(process.argv[1]), "127.0.0.1");
`;

export interface BareServer {
  url: string;
  stop(): Promise<void>;
}

export async function startBareServer(): Promise<BareServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ["-e", SERVER, String(port)], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    // Any answer will do; the server answers 202 to every path and method once it listens.
    await waitForHttp(`${url}/`, 10_000, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
