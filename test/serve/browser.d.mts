// Hand-written types for ./browser.mjs.
import type {BrowserContext} from 'playwright-core';

export declare const CHROMIUM_PATH: string;
export declare const CHROMIUM_ARGS: string[];
export declare function chromiumAvailable(): boolean;
export declare function launchChromium(options?: {viewport?: {width: number; height: number}; deviceScaleFactor?: number}): Promise<{context: BrowserContext; close(): Promise<void>}>;
