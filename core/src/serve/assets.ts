// The GUI's static files, compiled into dist by `tsc` like any other module: no copy step and no bundler.
import css  from './assets/app.css.js';
import js   from './assets/app.js.js';
import html from './assets/index.html.js';

export interface Asset {
  type: string;
  body: string;
}

export const ASSETS: Readonly<Record<string, Asset>> = {
  '/index.html': {type: `text/html; charset=utf-8`, body: html},
  '/app.js':     {type: `text/javascript; charset=utf-8`, body: js},
  '/app.css':    {type: `text/css; charset=utf-8`, body: css},
};
