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

describe("typed calls", () => {
  it("throws the API's problem details on an error status and returns the body otherwise", async () => {
    const { ok, ApiError, signInAgainUrl } = await import("./http");
    const problem = { type: "about:blank", title: "Not Found", status: 404, detail: "no order 'X'", instance: "/api/v1/orders/X" };
    const failed = ok(Promise.resolve({ error: problem, response: new Response(null, { status: 404 }) }));
    await expect(failed).rejects.toBeInstanceOf(ApiError);
    await expect(failed).rejects.toMatchObject({ status: 404, message: "no order 'X'" });
    await expect(ok(Promise.resolve({ data: { a: 1 }, response: new Response(null, { status: 200 }) }))).resolves.toEqual({ a: 1 });
    expect(signInAgainUrl({ pathname: "/work", search: "?x=1" })).toBe("/login?next=%2Fwork%3Fx%3D1");
  });
});
