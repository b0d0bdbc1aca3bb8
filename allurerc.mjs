// Allure 3 configuration for `nox -s report` (npm package `allure`, pinned in package.json).
// No `import { defineConfig } from "allure"`: defineConfig only returns its argument.
import { existsSync, readFileSync } from "node:fs";

// Known issues, written by each conformance run (conformance/plugins/allure3.py) from the deviations file, plus the rule
// that accepts failures the baseline already had: Allure 3 keeps them out of the quality gate's maxFailures.
const resolutionsFile = process.env.FAPI_ALLURE_RESOLUTIONS ?? new URL("reports/allure-resolutions.json", import.meta.url);
const knownRules = existsSync(resolutionsFile) ? JSON.parse(readFileSync(resolutionsFile, "utf8")).rules : [];
// Every result carries an `env` label with the target's kind: one report can hold the CI mock run and the
// nightly testnet run side by side (`nox -s report -- OTHER_RESULTS_DIR`).
const env = (value) => ({ labels }) => labels.some((label) => label.name === "env" && label.value === value);
// The nightly matrix (conformance/tools/matrix.py merge) labels each target's results with its own name and lists the
// names here: one environment per target.
const targetsFile = process.env.FAPI_ALLURE_ENVIRONMENTS ?? new URL("reports/allure-environments.json", import.meta.url);
const targets = existsSync(targetsFile) ? JSON.parse(readFileSync(targetsFile, "utf8")) : {};
const defaultEnvironments = {
  mock: { name: "bundled mock", matcher: env("mock") },
  testnet: { name: "ZTDX testnet", matcher: env("testnet") },
  url: { name: "other base URL", matcher: env("url") },
};

export default {
  name: "fapi-conformance",
  output: "reports/allure-report",
  // One JSON line per run; nox -s report keeps it in reports/history/ and CI restores it from a cache.
  historyPath: "reports/history/history.jsonl",
  historyLimit: 30,
  environments: Object.keys(targets).length
    ? Object.fromEntries(Object.entries(targets).map(([id, name]) => [id, { name, matcher: env(id) }]))
    : defaultEnvironments,
  resolutions: { knownIssuesPath: "reports/allure-known-issues.json", rules: knownRules },
  // `allure quality-gate` (nox -s report): no failure outside the known issues, and an empty run fails.
  qualityGate: { rules: [{ maxFailures: 0, minTestsCount: 1 }] },
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
