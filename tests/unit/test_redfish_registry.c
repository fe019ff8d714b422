/*
 * test_redfish_registry.c: DMTF's Privilege Registry as the Redfish gateway
 * reads it (src/dialects/redfish/redfish_registry.c over the table that
 * scripts/redfish-privileges generated): paths of the registry's own
 * entities found whatever their case, actions on their resource, paths no
 * URI pattern matches, and the privilege sets with the SubordinateOverrides
 * applied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/dialects/redfish/redfish_registry.h"

/* The registry's own entities, found from paths of the shapes DMTF's
 * schemas give, whatever the case, with actions on their resource. */
static void test_registry_lookup(void **state)
{
    static const struct {
        const char *path, *entity;
    } cases[] = {
        { "/redfish/v1", "ServiceRoot" },
        { "/redfish/v1/Systems", "ComputerSystemCollection" },
        { "/redfish/v1/Systems/1", "ComputerSystem" },
        { "/REDFISH/v1/systems/System.Embedded.1", "ComputerSystem" },
        { "/redfish/v1/Systems/1/Processors/CPU1", "Processor" },
        { "/redfish/v1/Systems/1/Memory", "MemoryCollection" },
        { "/redfish/v1/Systems/1/Memory/DIMM0", "Memory" },
        { "/redfish/v1/Systems/1/EthernetInterfaces/eth0", "EthernetInterface" },
        { "/redfish/v1/Managers/bmc/EthernetInterfaces/eth0", "EthernetInterface" },
        { "/redfish/v1/Managers/bmc", "Manager" },
        { "/redfish/v1/Managers/bmc/NetworkProtocol", "ManagerNetworkProtocol" },
        { "/redfish/v1/Chassis/1", "Chassis" },
        { "/redfish/v1/Chassis/1/Sensors/Temp1", "Sensor" },
        { "/redfish/v1/Chassis/1/Power", "Power" },
        { "/redfish/v1/Chassis/1/Thermal", "Thermal" },
        { "/redfish/v1/UpdateService", "UpdateService" },
        { "/redfish/v1/UpdateService/FirmwareInventory/BIOS", "SoftwareInventory" },
        { "/redfish/v1/TaskService/Tasks/7", "Task" },
        { "/redfish/v1/EventService", "EventService" },
        { "/redfish/v1/EventService/Subscriptions/1", "EventDestination" },
        { "/redfish/v1/Systems/1/LogServices/SEL/Entries/1", "LogEntry" },
        { "/redfish/v1/Managers/bmc/LogServices/Journal/Entries/3", "LogEntry" },
        { "/redfish/v1/Systems/1/Bios", "Bios" },
        { "/redfish/v1/Systems/1/Storage/1/Drives/0", "Drive" },
        { "/redfish/v1/CertificateService", "CertificateService" },
        { "/redfish/v1/Managers/bmc/VirtualMedia/CD", "VirtualMedia" },
        { "/redfish/v1/JsonSchemas", "JsonSchemaFileCollection" },
        { "/redfish/v1/Registries", "MessageRegistryFileCollection" },
        { "/redfish/v1/Fabrics/PCIe/Switches/1", "Switch" },
        { "/redfish/v1/SessionService/Sessions/abc", "Session" },
        { "/redfish/v1/AccountService/Accounts/2", "ManagerAccount" },
        { "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", "ComputerSystem" },
        { "/redfish/v1/Managers/bmc/Actions/Oem/Contoso.Reset", "Manager" },
        { "/redfish/v1/Systems/1/Oem/Contoso/Thing", NULL },
        { "/redfish/v1/Systems/1/Unknown", NULL },
        { "/redfish/v2/Systems/1", NULL },
        { "/redfish/v1/Systems//Processors/CPU1", NULL },
        { "/redfish/v1/Systems/", NULL },
        { "/", NULL },
        { "/redfish/v1/Actions/Foo.Bar", "ServiceRoot" },
    };
    char deep[400] = "/redfish/v1/Systems/1";

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gh_redfish_needs n = gh_redfish_registry_needs(cases[i].path, strlen(cases[i].path),
                                                       GH_METHOD_GET);

        if (cases[i].entity == NULL ? n.entity != NULL
                                    : n.entity == NULL || strcmp(n.entity, cases[i].entity) != 0)
            fail_msg("%s: %s, not %s", cases[i].path, n.entity ? n.entity : "(none)",
                     cases[i].entity ? cases[i].entity : "(none)");
        assert_true(n.entity == NULL || n.nsets >= 1);
    }
    /* Deeper than any pattern and than the walk goes: no match, no harm. */
    for (size_t i = 0; i < 40; i++)
        strcat(deep, "/x");
    assert_null(gh_redfish_registry_needs(deep, strlen(deep), GH_METHOD_GET).entity);
    assert_null(gh_redfish_registry_needs(NULL, 0, GH_METHOD_GET).entity);
    assert_null(gh_redfish_registry_needs("", 0, GH_METHOD_GET).entity);
}

/* The privilege sets of the registry, overrides applied. */
static void test_registry_privileges(void **state)
{
    static const struct {
        const char *method, *path;
        unsigned    first;     /* the first set */
        size_t      nsets;
    } cases[] = {
        { "GET", "/redfish/v1/Systems/1", GH_PRIV_LOGIN, 1 },
        { "PATCH", "/redfish/v1/Systems/1", GH_PRIV_CONFIGURE_COMPONENTS, 1 },
        { "POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
          GH_PRIV_CONFIGURE_COMPONENTS, 1 },
        { "PATCH", "/redfish/v1/Managers/bmc/NetworkProtocol", GH_PRIV_CONFIGURE_MANAGER, 1 },
        { "POST", "/redfish/v1/Managers/bmc/Actions/Manager.Reset", GH_PRIV_CONFIGURE_MANAGER, 1 },
        /* SubordinateOverrides: an EthernetInterface is the manager's under
         * a Manager, the system's under a ComputerSystem. */
        { "PATCH", "/redfish/v1/Managers/bmc/EthernetInterfaces/eth0", GH_PRIV_CONFIGURE_MANAGER, 1 },
        { "PATCH", "/redfish/v1/Systems/1/EthernetInterfaces/eth0", GH_PRIV_CONFIGURE_COMPONENTS, 1 },
        { "POST", "/redfish/v1/Managers/bmc/EthernetInterfaces", GH_PRIV_CONFIGURE_MANAGER, 1 },
        /* A Certificate anywhere below a ComputerSystem: even reading it. */
        { "GET", "/redfish/v1/Systems/1/Boot/Certificates/1", GH_PRIV_CONFIGURE_COMPONENTS, 1 },
        { "GET", "/redfish/v1/Managers/bmc/NetworkProtocol/HTTPS/Certificates/1",
          GH_PRIV_CONFIGURE_MANAGER, 1 },
        /* ConfigureSelf (own resource) cannot be told upstream: dropped. */
        { "PATCH", "/redfish/v1/EventService/Subscriptions/1", GH_PRIV_CONFIGURE_MANAGER, 1 },
        { "GET", "/redfish/v1/EventService/Subscriptions/1", GH_PRIV_LOGIN, 1 },
        { "POST", "/redfish/v1/EventService/Subscriptions", GH_PRIV_CONFIGURE_MANAGER, 2 },
        { "PATCH", "/redfish/v1/AccountService", GH_PRIV_CONFIGURE_USERS, 1 },
        /* Methods the registry does not know: the method's default. */
        { "OPTIONS", "/redfish/v1/Systems/1", 0, 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gh_method        m = gh_method_from((gh_str){ cases[i].method, strlen(cases[i].method) });
        gh_redfish_needs n = gh_redfish_registry_needs(cases[i].path, strlen(cases[i].path), m);

        assert_non_null(n.entity);
        if (n.nsets != cases[i].nsets || (n.nsets > 0 && n.sets[0] != cases[i].first))
            fail_msg("%s %s: %zu sets, first %u", cases[i].method, cases[i].path, n.nsets,
                     n.nsets > 0 ? n.sets[0] : 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_lookup),
        cmocka_unit_test(test_registry_privileges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
