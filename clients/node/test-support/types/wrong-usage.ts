// Deliberately wrong uses of the declarations: test/package.test.js expects
// tsc to reject exactly the lines marked "expect TS<code>".

import { createAdapter, Emitter, BusConnection } from "@socketbus/connector";

declare const redis: { publish(channel: string, message: string): Promise<number>; duplicate(): unknown };

createAdapter({ requestsTimeout: "5s" }); // expect TS2322
new Emitter(redis).to("r").emitWithConfirmation("ev").then((result) => result.deliverd); // expect TS2551
new BusConnection().on("ready", (welcome) => welcome.nodeId.toFixed()); // expect TS2551
createAdapter().stats().state === "open"; // expect TS2367
