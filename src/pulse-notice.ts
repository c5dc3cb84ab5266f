// When the class pulse is on, the notebook's first cell (the one that imports
// "rollcall") says in one line what is shared, before any check shares anything.
// index.ts imports this file for that one effect; a module runs once per kernel,
// so the line shows once.

import escapeHtml from "escape-html";
import { publish } from "./display";
import { pulseNotice } from "./pulse";

const notice = pulseNotice();
if (notice !== undefined) publish({ "text/plain": notice, "text/html": `<div class="rollcall-pulse">${escapeHtml(notice)}</div>` });
