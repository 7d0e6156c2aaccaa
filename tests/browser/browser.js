'use strict';
/* browser.js - what the browser tests share: their command-line options,
 * playwright-core and Chromium (a missing one ends the test as skipped, exit
 * 77), and launching headless Chromium with the project's flags. */
const fs = require('node:fs');

const CHROMIUM = process.env.WSC_CHROMIUM || '/usr/bin/chromium';

/* The value after `name` on the command line, or dflt. */
function argValue(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

/* playwright-core, or exit 77 (skipped) when it or Chromium is missing;
 * who names the test in the message. */
function requirePlaywright(who) {
  let playwright;
  try {
    playwright = require('playwright-core');
  } catch (e) {
    console.error(`${who}: playwright-core is not installed (scripts/setup runs npm ci in tests/browser)`);
    process.exit(77);
  }
  if (!fs.existsSync(CHROMIUM)) {
    console.error(`${who}: no Chromium at ${CHROMIUM} (scripts/setup installs Debian's chromium)`);
    process.exit(77);
  }
  return playwright;
}

/* Headless Chromium with the flags the project's tests use everywhere. */
function launch(playwright) {
  return playwright.chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

module.exports = { CHROMIUM, argValue, requirePlaywright, launch };
