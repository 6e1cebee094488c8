// Renders Adaptive Cards to PNGs with Microsoft's own JavaScript renderer (npm "adaptivecards")
// and a host config (Teams' light and dark), in headless Chromium driven by puppeteer-core.
//
// Usage: node render.mjs job.json
// job.json: {"chromium": "/usr/bin/chromium", "outDir": "...", "widths": [500, 360],
//            "themes": {"light": {"hostConfig": "...json", "page": "#f5f5f5"}, ...},
//            "cards": [{"name": "bill-new", "card": {...}}]}
// Writes <outDir>/<name>-<theme>-<width>.png, one per card, theme and width, and prints each path.
// A developer tool (docs/cards/render.py drives it); nothing in `make test` runs it.

import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const rendererScript = require.resolve("adaptivecards/dist/adaptivecards.min.js");
const rendererCss = readFileSync(require.resolve("adaptivecards/dist/adaptivecards.css"), "utf8");

// Buttons: the renderer's own stylesheet, with the dark theme's colours for the dark host config.
const darkButtons = `
.ac-pushButton { background-color: #2d2c2c; color: #a6a7dc; border: 1px solid #605e5c; }
.ac-pushButton:hover { background-color: #3b3a39; }`;

const profile = mkdtempSync(join(tmpdir(), "mlc-render-"));
const browser = await puppeteer.launch({
  executablePath: job.chromium,
  headless: true,
  userDataDir: profile,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", `--user-data-dir=${profile}`,
  ],
});

try {
  const page = await browser.newPage();
  for (const [theme, settings] of Object.entries(job.themes)) {
    const hostConfig = JSON.parse(readFileSync(settings.hostConfig, "utf8"));
    const css = rendererCss + (theme === "dark" ? darkButtons : "");
    await page.setContent(
      `<!doctype html><html><head><meta charset="utf-8"><style>${css}
       body { margin: 0; padding: 16px; background: ${settings.page}; }
       #card { display: inline-block; border-radius: 4px; overflow: hidden; }</style></head>
       <body><div id="card"></div></body></html>`,
    );
    await page.addScriptTag({ path: rendererScript });
    for (const width of job.widths) {
      await page.setViewport({ width: width + 32, height: 800, deviceScaleFactor: 1 });
      for (const { name, card } of job.cards) {
        const problem = await page.evaluate(
          (cardJson, config, px) => {
            const host = document.getElementById("card");
            host.innerHTML = "";
            host.style.width = `${px}px`;
            const adaptiveCard = new AdaptiveCards.AdaptiveCard();
            adaptiveCard.hostConfig = new AdaptiveCards.HostConfig(config);
            const context = new AdaptiveCards.SerializationContext();
            adaptiveCard.parse(cardJson, context);
            const rendered = adaptiveCard.render();
            if (!rendered) return "the renderer produced nothing";
            host.appendChild(rendered);
            // What the renderer could not read or found wrong: parse warnings and validation failures.
            const issues = [];
            for (let i = 0; i < context.eventCount; i++) issues.push(context.getEventAt(i).message);
            for (const event of adaptiveCard.validateProperties().validationEvents) issues.push(event.message);
            return issues.join("; ");
          },
          card, hostConfig, width,
        );
        if (problem) console.error(`${name}: ${problem}`);
        const element = await page.$("#card");
        const path = join(job.outDir, `${name}-${theme}-${width}.png`);
        await element.screenshot({ path });
        console.log(path);
      }
    }
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
