// A cursor-paged list held by a page: the first page on load(), the next on
// more(button), both redrawing with draw(); a failed first load shows a
// retry in place of the list, a failed "Load more" a toast.

import { listPage } from './api.js';
import { busy, loadError, toast } from './ui.js';

export function pager(path, list, draw, { limit = 50 } = {}) {
  const pg = {
    rows: [],
    next: null,
    async load() {
      try {
        const p = await listPage(path, { limit });
        pg.rows = p.data;
        pg.next = p.next;
        draw();
      } catch (err) {
        list.replaceChildren(loadError(err, pg.load));
      }
    },
    async more(btn) {
      try {
        const p = await busy(btn, () => listPage(path, { limit, cursor: pg.next }));
        pg.rows = pg.rows.concat(p.data);
        pg.next = p.next;
        draw();
      } catch (err) {
        toast(err.message, 'danger');
      }
    },
  };
  return pg;
}
