/* The page `amplink dash` serves at /, written as HTML in dash_page.html
 * and compiled in (cmake/embed_text.cmake): a chart per series from
 * /api/series (Chart.js from /chart.js, live points from /events, history
 * from /api/samples), the link-health panel from /api/status, and a
 * set-duty form. With ?autotest=1 it drives itself (the browser test) and
 * reports what it saw to /api/report. @@TOKEN@@ is replaced with the run's
 * token, which every POST carries (X-Amplink-Token). */
#ifndef AMPLINK_DASH_PAGE_H
#define AMPLINK_DASH_PAGE_H

extern const char dash_page[];

#endif
