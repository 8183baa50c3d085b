// node --import ./log-loaded.mjs …: registers loaded-hook.mjs (Node ≥ 20.6) before the program's first import.
import {register} from 'node:module';

register(`./loaded-hook.mjs`, import.meta.url);
