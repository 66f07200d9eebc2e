package io.execfarm.dispatcher.tenancy;

import jakarta.enterprise.context.RequestScoped;

/** The tenant of the HTTP request being served, set by {@link ApiKeyFilter}. */
@RequestScoped
public class CurrentTenant {

    private String name;

    public String name() {
        if (name == null) {
            throw new IllegalStateException("no tenant: the API key filter did not run");
        }
        return name;
    }

    void set(String name) {
        this.name = name;
    }
}
