// Drives Flood in headless Chromium: waits for the torrent list to show
// every name given, screenshots it, selects the row of the first name and
// presses Flood's "Stop Torrent" button, then screenshots again.
// Usage: node flood_pause.js URL SHOT_PREFIX NAME...
// Prints "shown" once the names are listed and "clicked" after the button.
const puppeteer = require('puppeteer-core');

async function main() {
  const [url, shot, ...names] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({width: 1280, height: 800});
    await page.goto(url, {waitUntil: 'networkidle2', timeout: 30000});
    await page.waitForFunction(
      (ns) => ns.every((n) => document.body && document.body.innerText.includes(n)), {timeout: 30000}, names);
    await page.screenshot({path: shot + '-list.png'});
    console.log('shown');
    // The list re-renders as updates arrive: click the row until Flood
    // marks it selected, or the Stop button would act on nothing.
    let selected = false;
    for (let i = 0; i < 20 && !selected; ++i) {
      const [row] = await page.$$(`xpath/.//*[text()="${names[0]}"]`);
      if (row) await row.click().catch(() => {});
      selected = await page.waitForSelector('.torrent--is-selected', {timeout: 500}).then(() => true, () => false);
    }
    if (!selected) throw new Error('could not select the row of ' + names[0]);
    const button = await page.waitForSelector(
      '[aria-label="Stop Torrent"], [title="Stop Torrent"], .actionbar__button--stop-torrent, [class*="stop-torrent"]',
      {timeout: 10000});
    await button.click();
    console.log('clicked');
    await page.waitForFunction(() => document.body.innerText.match(/Stopped\s*1/), {timeout: 15000})
      .catch(() => console.log('the Stopped filter never counted 1'));
    await page.screenshot({path: shot + '-stopped.png'});
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error('flood_pause: ' + e.message);
  process.exit(1);
});
