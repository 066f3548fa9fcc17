"use client";

import Link from "next/link";
import { useRef, useState, type FormEvent } from "react";
import {
  ACTIONS, ALERT_STATES, SEVERITIES, hasCsv, orderRequest, toActionRow, toPage, workListParams,
  type Action, type ActionRow, type AlertState, type Order, type Severity, type SortColumn, type WorkListQuery,
} from "@/api/adapters";
import { api, idempotencyKey, ok } from "@/api/http";
import { ROUTES } from "@/api/routes";
import { LoadState } from "@/components/LoadState";
import { useI18n } from "@/i18n/I18nProvider";
import { formatDate, formatMoney, formatNumber } from "@/i18n/format";
import type { MessageKey } from "@/i18n/messages";
import { downloadText, toCsv } from "@/lib/csv";
import { useLoad } from "@/lib/useLoad";

const PAGE_SIZE = 50;

const COLUMNS: { column: SortColumn; label: MessageKey; numeric?: boolean }[] = [
  { column: "item", label: "work.item" },
  { column: "depot", label: "work.depot" },
  { column: "action", label: "work.action" },
  { column: "quantity", label: "work.quantity", numeric: true },
  { column: "severity", label: "work.severity" },
  { column: "daysToStockout", label: "work.daysToStockout", numeric: true },
  { column: "valueAtRisk", label: "work.valueAtRisk", numeric: true },
  { column: "orderValue", label: "work.orderValue", numeric: true },
];

type Dialog = { kind: "ack" | "snooze"; row: ActionRow } | null;

export function WorkList() {
  const { t, locale } = useI18n();
  const [query, setQuery] = useState<WorkListQuery>({ limit: PAGE_SIZE, offset: 0 });
  const [selected, setSelected] = useState<Map<string, ActionRow>>(new Map());
  const [notice, setNotice] = useState<string | null>(null);
  const [created, setCreated] = useState<Order[]>([]);
  const [dialog, setDialog] = useState<Dialog>(null);
  const params = workListParams(query);
  const page = useLoad(async () => toPage(await ok(api.GET("/api/v1/actions", { params: { query: params } })), toActionRow), JSON.stringify(params));
  const depots = useLoad(async () => (await ok(api.GET("/api/v1/depots", { params: { query: { limit: 500 } } }))).data.map((d) => d.depot_id), "depots");

  function filter(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => (form.get(name) as string | null) || undefined;
    setQuery((q) => ({
      ...q, offset: 0, depotId: text("depot_id"), category: text("category"),
      severity: text("severity") as Severity | undefined, action: text("action") as Action | undefined,
      state: text("state") as AlertState | undefined,
    }));
  }

  function sortBy(column: SortColumn) {
    setQuery((q) => ({ ...q, offset: 0, sort: { column, descending: q.sort?.column === column ? !q.sort.descending : true } }));
  }

  function toggle(row: ActionRow) {
    setSelected((previous) => {
      const next = new Map(previous);
      if (next.has(row.actionId)) next.delete(row.actionId);
      else next.set(row.actionId, row);
      return next;
    });
  }

  // One key per selection: a double click or a retry of the same approval creates nothing new.
  const approvalKey = useRef<{ key: string; ids: string } | null>(null);
  async function approve() {
    const rows = [...selected.values()];
    const ids = rows.map((r) => r.actionId).sort().join(",");
    if (approvalKey.current?.ids !== ids) approvalKey.current = { key: idempotencyKey(), ids };
    const { data: orders } = await ok(
      api.POST("/api/v1/orders", { params: { header: { "Idempotency-Key": approvalKey.current.key } }, body: orderRequest(rows) }),
    );
    setCreated(orders);
    setSelected(new Map());
    setNotice(t("work.ordersCreated", { count: orders.length }));
    page.reload();
  }

  function exportCsv(rows: ActionRow[]) {
    const header = ["item_id", "item_name", "depot_id", "action", "quantity", "severity", "days_to_stockout", "value_at_risk", "order_value", "supplier_id", "reason"];
    const body = rows.map((r) => [r.itemId, r.itemName, r.depotId, r.action, r.quantity, r.severity, r.daysToStockout, r.valueAtRisk, r.orderValue, r.supplierId, r.reason]);
    downloadText(`work-list-${rows[0]?.asOfDate ?? "today"}.csv`, toCsv(header, body));
  }

  // Drafts become orders the supplier can get once approved (the API exports approved ones).
  async function approveOrder(order: Order) {
    const approved = await ok(api.POST("/api/v1/orders/{order_id}/approve", { params: { path: { order_id: order.order_id } } }));
    setCreated((all) => all.map((o) => (o.order_id === approved.order_id ? approved : o)));
    setNotice(t("orders.approvedNotice", { id: approved.order_id }));
  }

  const ariaSort = (column: SortColumn) => (query.sort?.column !== column ? "none" : query.sort.descending ? "descending" : "ascending");

  return (
    <>
      <h1>{t("work.title")}</h1>
      <form className="filters card" onSubmit={filter} aria-label={t("work.filters")}>
        <div className="field">
          <label htmlFor="f-depot_id">{t("work.depot")}</label>
          <select id="f-depot_id" name="depot_id" defaultValue="">
            <option value="">{t("common.all")}</option>
            {depots.status === "ok" && depots.data.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-category">{t("work.category")}</label>
          <input id="f-category" name="category" type="text" />
        </div>
        <div className="field">
          <label htmlFor="f-severity">{t("work.severity")}</label>
          <select id="f-severity" name="severity" defaultValue="">
            <option value="">{t("common.all")}</option>
            {SEVERITIES.map((s) => <option key={s} value={s}>{t(`severity.${s}`)}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-action">{t("work.action")}</label>
          <select id="f-action" name="action" defaultValue="">
            <option value="">{t("common.all")}</option>
            {ACTIONS.map((a) => <option key={a} value={a}>{t(`action.${a}`)}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-state">{t("work.state")}</label>
          <select id="f-state" name="state" defaultValue="">
            <option value="">{t("common.all")}</option>
            {ALERT_STATES.map((s) => <option key={s} value={s}>{t(`state.${s}`)}</option>)}
          </select>
        </div>
        <button type="submit">{t("work.apply")}</button>
      </form>
      {notice && <p role="status" className="ok-text">{notice}</p>}
      {created.length > 0 && (
        <ul className="created">
          {created.map((order) => (
            <li key={order.order_id} data-testid="created-order">
              <Link href={`/orders#${encodeURIComponent(order.order_id)}`}>{order.order_id}</Link> · {order.supplier_name ?? order.supplier_id} ·{" "}
              <span className={`badge status-${order.status}`}>{t(`orders.${order.status}`)}</span> ·{" "}
              {hasCsv(order) ? (
                <a href={ROUTES.orderCsv(order.order_id)} download>{t("orders.csv", { id: order.order_id })}</a>
              ) : order.status === "draft" ? (
                <button type="button" className="primary" onClick={() => void approveOrder(order).catch((e: Error) => setNotice(e.message))}>
                  {t("orders.approve", { id: order.order_id })}
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      <LoadState state={page} reload={page.reload}>
        {(data) => (
          <>
            <div className="toolbar">
              <span role="status">{t("work.rows", { count: formatNumber(locale, data.count) })} · {t("work.selected", { count: selected.size })}</span>
              <button type="button" className="primary" disabled={selected.size === 0} onClick={() => void approve().catch((e: Error) => setNotice(e.message))}>
                {t("work.approve")}
              </button>
              <button type="button" onClick={() => exportCsv(data.data)} disabled={!data.data.length}>{t("common.exportCsv")}</button>
            </div>
            <div className="table-wrap">
              <table className="work">
                <caption className="sr-only">{t("work.title")}</caption>
                <thead>
                  <tr>
                    <th scope="col">
                      <input
                        type="checkbox"
                        aria-label={t("work.selectAll")}
                        checked={data.data.length > 0 && data.data.every((r) => selected.has(r.actionId))}
                        onChange={(e) => setSelected(e.target.checked ? new Map(data.data.map((r) => [r.actionId, r])) : new Map())}
                      />
                    </th>
                    {COLUMNS.map((c) => (
                      <th key={c.column} scope="col" aria-sort={ariaSort(c.column)} className={c.numeric ? "num" : undefined}>
                        <button type="button" className="sort" onClick={() => sortBy(c.column)} aria-label={t("work.sortBy", { column: t(c.label) })}>
                          {t(c.label)} <span aria-hidden="true">{ariaSort(c.column) === "descending" ? "▼" : ariaSort(c.column) === "ascending" ? "▲" : "↕"}</span>
                        </button>
                      </th>
                    ))}
                    <th scope="col">{t("work.reason")}</th>
                    <th scope="col"><span className="sr-only">{t("work.ack")}</span></th>
                  </tr>
                </thead>
                <tbody>
                  {data.data.map((row) => (
                    <tr key={row.actionId} data-testid="work-row" data-depot={row.depotId} data-action={row.action} data-quantity={row.quantity ?? ""} data-state={row.state} className={row.state !== "open" ? "acked" : undefined}>
                      <td>
                        <input type="checkbox" checked={selected.has(row.actionId)} onChange={() => toggle(row)} aria-label={t("work.select", { item: row.itemId, depot: row.depotId })} />
                      </td>
                      <td>
                        <Link href={`/items/${encodeURIComponent(row.itemId)}/${encodeURIComponent(row.depotId)}`}>{row.itemId}</Link>
                        <div className="muted small">{row.itemName}</div>
                      </td>
                      <td>{row.depotId}</td>
                      <td>
                        <span className={`badge action-${row.action}`}>{t(`action.${row.action}`)}</span>
                        {row.action === "transfer" && row.transferFromDepotId && <div className="muted small">{t("work.from", { depot: row.transferFromDepotId })}</div>}
                        {row.action === "expedite" && row.expeditePoId && <div className="muted small">{row.expeditePoId} · {formatDate(locale, row.expediteExpectedDate)}</div>}
                      </td>
                      <td className="num">{formatNumber(locale, row.quantity)}</td>
                      <td>
                        {row.severity ? <span className={`badge ${row.severity}`}>{t(`severity.${row.severity}`)}</span> : t("severity.none")}
                        {row.alertId && row.state !== "open" && <div className="muted small">{t(`state.${row.state}`)}{row.snoozedUntil && ` · ${formatDate(locale, row.snoozedUntil)}`}</div>}
                      </td>
                      <td className="num">{formatNumber(locale, row.daysToStockout)}{row.stockoutDate && <div className="muted small">{formatDate(locale, row.stockoutDate)}</div>}</td>
                      <td className="num">{formatMoney(locale, row.valueAtRisk)}</td>
                      <td className="num">{formatMoney(locale, row.orderValue)}</td>
                      <td className="reason">{row.reason}</td>
                      <td className="actions">
                        {row.alertId && (
                          <div className="stack">
                            <button type="button" onClick={() => setDialog({ kind: "ack", row })} disabled={row.state === "acknowledged" || row.state === "resolved"}>{t("work.ack")}</button>
                            <button type="button" onClick={() => setDialog({ kind: "snooze", row })}>{t("work.snooze")}</button>
                          </div>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager count={data.count} offset={query.offset} onOffset={(offset) => setQuery((q) => ({ ...q, offset }))} />
          </>
        )}
      </LoadState>
      {dialog && (
        <AlertDialog
          dialog={dialog}
          onClose={() => setDialog(null)}
          onDone={(message) => {
            setDialog(null);
            setNotice(message);
            page.reload();
          }}
        />
      )}
    </>
  );
}

function Pager({ count, offset, onOffset }: { count: number; offset: number; onOffset: (offset: number) => void }) {
  const { t } = useI18n();
  const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
  const pageNo = Math.floor(offset / PAGE_SIZE) + 1;
  return (
    <nav className="pager" aria-label={t("common.page", { page: pageNo, pages })}>
      <button type="button" disabled={pageNo <= 1} onClick={() => onOffset(offset - PAGE_SIZE)}>{t("common.previous")}</button>
      <span>{t("common.page", { page: pageNo, pages })}</span>
      <button type="button" disabled={pageNo >= pages} onClick={() => onOffset(offset + PAGE_SIZE)}>{t("common.next")}</button>
    </nav>
  );
}

function AlertDialog({ dialog, onClose, onDone }: { dialog: NonNullable<Dialog>; onClose: () => void; onDone: (message: string) => void }) {
  const { t } = useI18n();
  const [error, setError] = useState<string | null>(null);
  const id = dialog.row.alertId ?? "";
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      if (dialog.kind === "ack") {
        await ok(api.POST("/api/v1/alerts/{alert_id}/ack", { params: { path: { alert_id: id } }, body: { note: String(form.get("note") ?? "") } }));
        onDone(t("work.acked"));
      } else {
        await ok(api.POST("/api/v1/alerts/{alert_id}/snooze", { params: { path: { alert_id: id } }, body: { until: String(form.get("until")), note: "" } }));
        onDone(t("work.snoozed"));
      }
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  }
  const title = `${t(dialog.kind === "ack" ? "work.ack" : "work.snooze")}: ${dialog.row.itemId} · ${dialog.row.depotId}`;
  return (
    <div className="backdrop">
      <form role="dialog" aria-modal="true" aria-label={title} className="card dialog" onSubmit={submit} onKeyDown={(e) => e.key === "Escape" && onClose()}>
        <h2>{title}</h2>
        {dialog.kind === "ack" ? (
          <label>
            {t("work.note")}
            <textarea name="note" rows={3} autoFocus />
          </label>
        ) : (
          <label>
            {t("work.until")}
            <input name="until" type="date" required autoFocus />
          </label>
        )}
        {error && <p role="alert" className="error">{error}</p>}
        <div className="toolbar">
          <button type="submit" className="primary">{t(dialog.kind === "ack" ? "work.ack" : "work.snooze")}</button>
          <button type="button" onClick={onClose}>{t("common.close")}</button>
        </div>
      </form>
    </div>
  );
}
