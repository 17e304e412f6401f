"""URL routes of the merchant dashboard (namespace "dashboard", mounted at /dashboard/)."""

from django.urls import path

from . import account, aftersales, evidence_pages, photos, purchases, shipping, views

app_name = "dashboard"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("orders/", views.order_list_page, name="orders"),
    path("orders/purchase/preview/", purchases.purchase_preview_view, name="purchase_preview"),
    path("orders/purchase/", purchases.purchase_buy, name="purchase_create"),
    path("orders/ship/", shipping.ship, name="ship"),
    path("orders/labels.pdf", shipping.labels, name="labels"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/void/", shipping.void, name="void"),
    path("orders/<int:order_id>/evidence/", views.evidence, name="evidence"),
    path("orders/<int:order_id>/evidence.pdf", views.evidence_pdf_download, name="evidence_pdf"),
    path("purchases/<int:purchase_id>/cancel/", purchases.purchase_cancel_view, name="purchase_cancel"),
    path("claims/", views.claim_list_page, name="claims"),
    path("claims/<int:claim_id>/", aftersales.claim_detail, name="claim_detail"),
    path("aftersales/", aftersales.aftersales_queue, name="aftersales"),
    path("aftersales/<str:reference>/", aftersales.aftersales_detail, name="aftersales_detail"),
    path("ledger/", views.ledger, name="ledger"),
    path("inbox/", views.inbox, name="inbox"),
    path("settings/", account.merchant_settings, name="settings"),
    path("inbox/read-all/", views.inbox_mark_all_read, name="inbox_read_all"),
    path("inbox/<int:notification_id>/read/", views.inbox_mark_read, name="inbox_read"),
    path("photos/<int:photo_id>/", photos.complaint_photo, name="photo"),
    path("answer-photos/<int:photo_id>/", photos.answer_photo, name="answer_photo"),
    path("exports/orders.csv", views.export_orders, name="export_orders"),
    path("exports/evidence/", evidence_pages.evidence_export, name="evidence_export"),
    path("exports/evidence.zip", evidence_pages.evidence_export_zip, name="evidence_export_zip"),
    path("exports/claims.csv", views.export_claims, name="export_claims"),
    path("exports/ledger.csv", views.export_ledger, name="export_ledger"),
]
