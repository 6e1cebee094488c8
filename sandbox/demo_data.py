"""The demo company's fixed data: chart of accounts, dimensions, vendor names and categories."""

from __future__ import annotations

from typing import Mapping

COMPANY_NAME = "Demo Manufacturing Inc."
BANK_ACCOUNT = "BOA-OPER"
PAYMENT_METHODS = ("Printed Check", "ACH", "ACH", "EFT")
TERMS = {"Net 30": 30, "Net 15": 15, "Net 45": 45, "Net 60": 60, "Due on receipt": 0}

# (ACCOUNTNO, TITLE, ACCOUNTTYPE, NORMALBALANCE, active)
GL_ACCOUNTS = (
    ("1000", "Cash - Operating Account", "balancesheet", "debit", True),
    ("1010", "Cash - Payroll Account", "balancesheet", "debit", True),
    ("1200", "Accounts Receivable", "balancesheet", "debit", True),
    ("1400", "Prepaid Expenses", "balancesheet", "debit", True),
    ("1500", "Machinery and Equipment", "balancesheet", "debit", True),
    ("1510", "Accumulated Depreciation", "balancesheet", "credit", True),
    ("2000", "Accounts Payable", "balancesheet", "credit", True),
    ("2100", "Accrued Liabilities", "balancesheet", "credit", True),
    ("2200", "Sales Tax Payable", "balancesheet", "credit", True),
    ("3000", "Retained Earnings", "balancesheet", "credit", True),
    ("4000", "Product Revenue", "incomestatement", "credit", True),
    ("4100", "Service Revenue", "incomestatement", "credit", True),
    ("5000", "Cost of Goods Sold", "incomestatement", "debit", True),
    ("5100", "Raw Materials", "incomestatement", "debit", True),
    ("5200", "Freight In", "incomestatement", "debit", True),
    ("6000", "Salaries and Wages", "incomestatement", "debit", True),
    ("6100", "Rent and Facilities", "incomestatement", "debit", True),
    ("6110", "Utilities", "incomestatement", "debit", True),
    ("6200", "Office Supplies", "incomestatement", "debit", True),
    ("6210", "Software Subscriptions", "incomestatement", "debit", True),
    ("6220", "Telephone and Internet", "incomestatement", "debit", True),
    ("6300", "Travel", "incomestatement", "debit", True),
    ("6310", "Meals and Entertainment", "incomestatement", "debit", True),
    ("6400", "Professional Fees", "incomestatement", "debit", True),
    ("6410", "Legal Fees", "incomestatement", "debit", True),
    ("6500", "Insurance", "incomestatement", "debit", True),
    ("6600", "Repairs and Maintenance", "incomestatement", "debit", True),
    ("6700", "Marketing and Advertising", "incomestatement", "debit", True),
    ("6800", "Training and Education", "incomestatement", "debit", True),
    ("6900", "Bank Fees", "incomestatement", "debit", True),
    ("7000", "Depreciation Expense", "incomestatement", "debit", True),
    ("7900", "Suspense (legacy)", "incomestatement", "debit", False),
)
DEPARTMENTS = (
    ("D100", "Administration", "Maria Gonzalez"),
    ("D200", "Operations", "James Carter"),
    ("D300", "Engineering", "Priya Raman"),
    ("D400", "Sales and Marketing", "Tom Becker"),
    ("D500", "Finance", "Alicia Wong"),
)
LOCATIONS = (("L100", "Portland Headquarters"), ("L200", "Austin Plant"), ("L300", "Columbus Distribution Center"))
CLASSES = (("C10", "Industrial"), ("C20", "Consumer"), ("C30", "Government"), ("C40", "Internal"))
# (PROJECTID, NAME, CATEGORY, active)
PROJECTS = (
    ("P1001", "ERP Upgrade", "Internal", True),
    ("P1002", "Austin Plant Expansion", "Capital", True),
    ("P1003", "Trade Show 2026", "Marketing", True),
    ("P1004", "ISO 9001 Certification", "Internal", True),
    ("P1005", "Warehouse Automation", "Capital", True),
    ("P1006", "Website Redesign", "Marketing", False),
)
# vendor category → (expense accounts, line descriptions)
CATEGORIES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Raw Materials": (("5100",), ("Steel coil", "Aluminium sheet", "Resin pellets", "Fasteners", "Copper wire")),
    "Freight": (("5200",), ("Inbound freight", "LTL shipment", "Expedited delivery", "Fuel surcharge")),
    "Facilities": (("6100", "6600"), ("Monthly rent", "HVAC service", "Janitorial service", "Dock door repair")),
    "Utilities": (("6110", "6220"), ("Electricity", "Water and sewer", "Internet service", "Mobile phones")),
    "Office": (("6200",), ("Office supplies", "Printer toner", "Break room supplies", "Furniture")),
    "Software": (("6210",), ("Annual licence", "Cloud hosting", "SaaS subscription", "Support renewal")),
    "Travel": (("6300", "6310"), ("Airfare", "Hotel", "Client dinner", "Car rental")),
    "Professional Services": (("6400", "6410"), ("Audit fees", "Legal counsel", "Tax advisory", "Consulting")),
    "Insurance": (("6500",), ("General liability premium", "Property insurance", "Workers comp premium")),
    "Marketing": (("6700",), ("Trade show booth", "Online advertising", "Printed brochures", "Agency retainer")),
    "Training": (("6800",), ("Safety training", "Certification course", "Conference registration")),
    "Equipment": (("1500", "6600"), ("CNC spindle", "Forklift lease", "Press maintenance", "Tooling")),
}
# (name, category, term) — the demo's named vendors, in VENDORID order
NAMED_VENDORS = (
    ("Pacific Steel Supply", "Raw Materials", "Net 30"), ("Cascade Aluminium Co.", "Raw Materials", "Net 45"),
    ("Summit Polymers LLC", "Raw Materials", "Net 30"), ("Northwest Fastener Corp.", "Raw Materials", "Net 30"),
    ("Columbia Copper & Wire", "Raw Materials", "Net 60"), ("Redwood Freight Lines", "Freight", "Net 15"),
    ("Blue Ridge Logistics", "Freight", "Net 30"), ("Interstate Express Trucking", "Freight", "Net 15"),
    ("Harbor Point Properties", "Facilities", "Due on receipt"),
    ("Evergreen Facility Services", "Facilities", "Net 30"),
    ("Lone Star HVAC", "Facilities", "Net 30"), ("Portland General Power", "Utilities", "Net 15"),
    ("Austin Water Utility", "Utilities", "Net 15"), ("Lumen Fiber Networks", "Utilities", "Net 30"),
    ("Clearline Mobile", "Utilities", "Net 30"), ("Staples Business Advantage", "Office", "Net 30"),
    ("Office Depot Pro", "Office", "Net 30"), ("Herman Workplace Furniture", "Office", "Net 45"),
    ("Atlas Cloud Hosting", "Software", "Net 30"), ("Brightwave Software", "Software", "Net 30"),
    ("Ledgerly SaaS", "Software", "Net 15"), ("Vector CAD Systems", "Software", "Net 45"),
    ("Skyway Travel Partners", "Travel", "Net 15"), ("Grand Avenue Hotels", "Travel", "Due on receipt"),
    ("Metro Car Rentals", "Travel", "Net 15"), ("Whitman & Cole CPAs", "Professional Services", "Net 30"),
    ("Baxter Legal Group", "Professional Services", "Net 30"),
    ("Ironbridge Consulting", "Professional Services", "Net 45"),
    ("Keystone Tax Advisors", "Professional Services", "Net 30"), ("Mutual Shield Insurance", "Insurance", "Net 30"),
    ("Pioneer Casualty Co.", "Insurance", "Net 30"), ("Bright Banner Media", "Marketing", "Net 30"),
    ("Expo Booth Builders", "Marketing", "Net 45"), ("ClickPath Digital", "Marketing", "Net 15"),
    ("Printworks Graphics", "Marketing", "Net 30"), ("SafeStart Training", "Training", "Net 30"),
    ("Quality Systems Academy", "Training", "Net 30"), ("Precision Tooling Inc.", "Equipment", "Net 45"),
    ("Forklift Leasing of Texas", "Equipment", "Net 30"), ("Midwest Machine Repair", "Equipment", "Net 30"),
    ("Hydraulic Press Service", "Equipment", "Net 30"), ("O'Brien Abrasives Co.", "Raw Materials", "Net 30"),
    ("Riverbend Packaging", "Raw Materials", "Net 30"), ("Orca Marine Coatings", "Raw Materials", "Net 45"),
    ("Tri-County Waste Management", "Facilities", "Net 30"),
)
NAME_WORDS = (
    ("Acme", "Apex", "Bolt", "Cedar", "Delta", "Eagle", "Falcon", "Granite", "Harbor", "Iron", "Juniper",
     "Keystone", "Liberty", "Maple", "Nova", "Oak", "Pine", "Quarry", "River", "Sierra", "Titan", "Union",
     "Valley", "Willow", "Zenith"),
    ("Industrial", "Supply", "Logistics", "Systems", "Services", "Materials", "Works", "Partners",
     "Components", "Solutions", "Manufacturing", "Traders"),
    ("Inc.", "LLC", "Co.", "Corp.", "Ltd."),
)
ON_HOLD_VENDORS = frozenset({6, 17, 28, 39})  # 1-based positions among the named vendors
INACTIVE_VENDORS = frozenset({13, 24, 35})
