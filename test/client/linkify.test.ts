import { describe, expect, it } from "vitest";
import { formatDuration, ordinal } from "../../client/src/format.js";
import { linkify } from "../../client/src/linkify.js";

describe("linkify", () => {
  it("should leave markup as plain text", () => {
    const body = "<img src=x onerror=alert(1)><script>alert(1)</script>";
    expect(linkify(body)).toEqual([{ kind: "text", text: body }]);
  });

  it("should split http(s) links out of the text, without trailing punctuation", () => {
    expect(linkify("See https://example.com/a?b=1. Thanks")).toEqual([
      { kind: "text", text: "See " },
      { kind: "link", text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
      { kind: "text", text: ". Thanks" },
    ]);
  });

  it("should never link other schemes", () => {
    expect(linkify("javascript:alert(1) data:text/html,x")).toEqual([
      { kind: "text", text: "javascript:alert(1) data:text/html,x" },
    ]);
  });
});

describe("format", () => {
  it("should write queue positions as English ordinals", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal)).toEqual(
      ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"],
    );
  });

  it("should write waiting times compactly", () => {
    expect(formatDuration(42_000)).toBe("42s");
    expect(formatDuration(185_000)).toBe("3m 05s");
    expect(formatDuration(3_720_000)).toBe("1h 02m");
  });
});
