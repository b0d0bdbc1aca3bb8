// Allure 3 configuration for `nox -s report` (npm package `allure`, pinned in noxfile.py).
// No `import { defineConfig } from "allure"`: the CLI lives in .nox/_allure, outside this folder's module path,
// and defineConfig only returns its argument.

export default {
  name: "fapi-conformance",
  output: "reports/allure-report",
  // One JSON line per run; nox -s report keeps it in reports/history/ and CI restores it from a cache.
  historyPath: "reports/history/history.jsonl",
  historyLimit: 30,
  categories: [
    // First match wins: a harness error is never counted as a contract violation.
    { name: "Harness error", matchers: [{ statuses: ["broken"] },
      { statuses: ["failed"], message: /\[harness error\]|\[configuration error\]/ }], groupByMessage: true },
    { name: "Contract violation", matchers: { statuses: ["failed"] }, groupBy: ["severity", { label: "rule" }],
      groupByMessage: false, expand: true },
    // Before "Target unavailable": a precondition's message may quote an answer that says "unavailable".
    { name: "Rule not tested", matchers: { statuses: ["skipped"], message: /not tested:/ },
      groupBy: [{ label: "feature" }], groupByMessage: false },
    { name: "Target unavailable", matchers: { statuses: ["skipped"], message: /TargetUnavailable|unavailable:/ }, groupByMessage: true },
    { name: "Known deviation", matchers: { statuses: ["skipped"], message: /known deviation:|non-strict:/ },
      groupBy: [{ label: "rule" }], groupByMessage: false },
  ],
  plugins: {
    awesome: {
      options: {
        reportName: "fapi-conformance",
        reportLanguage: "en",
        groupBy: ["feature", "rule"],
      },
    },
    "awesome-single-file": {
      import: "@allurereport/plugin-awesome",
      options: {
        reportName: "fapi-conformance (single file)",
        reportLanguage: "en",
        singleFile: true,
        // A flat rule matrix: every rule ID is a top-level entry, readable without a click.
        groupBy: ["rule"],
      },
    },
  },
};
