"use client";

import { useState } from "react";
import { ORDER_STATUSES, hasCsv, type OrderStatus } from "@/api/adapters";
import { api, ok } from "@/api/http";
import { ROUTES } from "@/api/routes";
import { LoadState } from "@/components/LoadState";
import { useI18n } from "@/i18n/I18nProvider";
import { formatDateTime, formatMoney, formatNumber } from "@/i18n/format";
import { useLoad } from "@/lib/useLoad";

export function Orders() {
  const { t, locale } = useI18n();
  const [status, setStatus] = useState<OrderStatus | "">("");
  const orders = useLoad(async () => await ok(api.GET("/api/v1/orders", { params: { query: status ? { limit: 100, status } : { limit: 100 } } })), status);
  return (
    <>
      <h1>{t("orders.title")}</h1>
      <label className="inline-label">
        {t("orders.status")}
        <select value={status} onChange={(e) => setStatus(e.target.value as OrderStatus | "")}>
          <option value="">{t("common.all")}</option>
          {ORDER_STATUSES.map((s) => <option key={s} value={s}>{t(`orders.${s}`)}</option>)}
        </select>
      </label>
      <LoadState state={orders} reload={orders.reload}>
        {(page) =>
          page.data.length === 0 ? (
            <p>{t("common.none")}</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">ID</th>
                    <th scope="col">{t("orders.supplier")}</th>
                    <th scope="col">{t("orders.status")}</th>
                    <th scope="col" className="num">{t("orders.lines")}</th>
                    <th scope="col" className="num">{t("orders.total")}</th>
                    <th scope="col">{t("orders.createdBy")}</th>
                    <th scope="col">{t("orders.createdAt")}</th>
                    <th scope="col">CSV</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((order) => (
                    <tr key={order.order_id} id={order.order_id} data-testid="order-row" data-status={order.status}>
                      <th scope="row">{order.order_id}</th>
                      <td>{order.supplier_name ?? order.supplier_id}</td>
                      <td><span className={`badge status-${order.status}`}>{t(`orders.${order.status}`)}</span></td>
                      <td className="num">{formatNumber(locale, order.lines.length)}</td>
                      <td className="num">{formatMoney(locale, order.total_value)}</td>
                      <td>{order.created_by}</td>
                      <td>{formatDateTime(locale, order.created_at)}</td>
                      <td>{hasCsv(order) ? <a href={ROUTES.orderCsv(order.order_id)} download aria-label={t("orders.csv", { id: order.order_id })}>{t("common.exportCsv")}</a> : "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </LoadState>
    </>
  );
}
