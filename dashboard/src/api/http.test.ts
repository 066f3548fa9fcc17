import { describe, expect, it } from "vitest";
import { readCookie, withCsrf } from "./http";

describe("session helpers", () => {
  it("reads one cookie among many", () => {
    expect(readCookie("nova_locale=en; nova_csrf=abc%3D; x=1", "nova_csrf")).toBe("abc=");
    expect(readCookie("nova_locale=en", "nova_csrf")).toBeNull();
  });
  it("adds the CSRF token to writes only", () => {
    expect(withCsrf("POST", new Headers(), "tok").get("X-CSRF-Token")).toBe("tok");
    expect(withCsrf("delete", new Headers(), "tok").get("X-CSRF-Token")).toBe("tok");
    expect(withCsrf("GET", new Headers(), "tok").has("X-CSRF-Token")).toBe(false);
    expect(withCsrf("POST", new Headers(), null).has("X-CSRF-Token")).toBe(false);
  });
});
