import { describe, expect, it } from "vitest";
import { routeChats, type RoutedIncident } from "../../handlers/route-chats.js";
import type { ChatRoute } from "../../registry/config.js";

const ROUTES: ChatRoute[] = [
  { match: { severity: "P0" }, chatId: "-1002" },
  { match: { namespace: "monitoring" }, chatId: "-1003" },
  { match: { namespace: "payments" }, chatId: "-1002" },
];
const route = routeChats(ROUTES, "-1001");

const incident = (overrides: Partial<RoutedIncident>): RoutedIncident => ({
  severity: "P2",
  labels: {},
  target: null,
  ...overrides,
});

describe("routeChats", () => {
  it("sends a card to the route matching its severity", () => {
    expect(route(incident({ severity: "P0" }))).toEqual(["-1002"]);
  });

  it("sends a card to the route matching the namespace label", () => {
    expect(route(incident({ labels: { namespace: "monitoring" } }))).toEqual(["-1003"]);
  });

  it("takes the namespace from the target when the labels have none", () => {
    expect(route(incident({ target: { kind: "Pod", name: "p", namespace: "monitoring" } }))).toEqual([
      "-1003",
    ]);
  });

  it("prefers the namespace label over the target's namespace", () => {
    const both = incident({
      labels: { namespace: "awoooi-prod" },
      target: { kind: "Pod", name: "p", namespace: "monitoring" },
    });
    expect(route(both)).toEqual(["-1001"]);
  });

  it("sends a card to every matching route, each chat once", () => {
    expect(route(incident({ severity: "P0", labels: { namespace: "monitoring" } }))).toEqual([
      "-1002",
      "-1003",
    ]);
    expect(route(incident({ severity: "P0", labels: { namespace: "payments" } }))).toEqual(["-1002"]);
  });

  it("falls back to the default chat when no route matches", () => {
    expect(route(incident({ severity: "P1", labels: { namespace: "awoooi-prod" } }))).toEqual(["-1001"]);
    expect(routeChats([], "-1001")(incident({ severity: "P0" }))).toEqual(["-1001"]);
  });
});
